package monitoring

import (
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DashboardLabel is the label Grafana's dashboard sidecar looks for on
// ConfigMaps (the Grafana chart's default), with DashboardLabelValue.
const (
	DashboardLabel      = "grafana_dashboard"
	DashboardLabelValue = "1"
)

// Dashboard is one Grafana dashboard: rows of time-series panels, each
// with PromQL queries.
type Dashboard struct {
	// Name names its ConfigMap, <deployment>-dashboard-<Name>, and file.
	Name string
	// Title is what Grafana shows.
	Title string
	// Panels, in order, two per row.
	Panels []Panel
}

// Panel is one time-series panel.
type Panel struct {
	// Title says what it shows.
	Title string
	// Unit is Grafana's unit ("s", "percent", "short", "bytes", "dateTimeAsIso").
	Unit string
	// Queries are its PromQL expressions; Legend, when set, is Grafana's
	// legend format for all of them.
	Queries []string
	Legend  string
}

// Dashboards returns the deployment's dashboards: Galera, RabbitMQ, the
// OpenStack APIs, compute capacity and osk itself, their queries scoped
// to its namespace.
func Dashboards(p Params) []Dashboard {
	s := selectors{ns: p.Namespace, deployment: p.Deployment}
	return []Dashboard{
		{"galera", "OpenStack / Galera", []Panel{
			{"Members ready", "short", []string{s.of("mysql_global_status_wsrep_ready")}, "{{pod}}"},
			{"Cluster size", "short", []string{fmt.Sprintf("max(%s)", s.of("mysql_global_status_wsrep_cluster_size"))}, "size"},
			{"Local state (4 = Synced)", "short", []string{s.of("mysql_global_status_wsrep_local_state")}, "{{pod}}"},
			{"Queries per second", "short", []string{fmt.Sprintf("sum by (pod) (rate(%s[5m]))", s.of("mysql_global_status_queries"))}, "{{pod}}"},
			{"Connections", "short", []string{s.of("mysql_global_status_threads_connected")}, "{{pod}}"},
			{"Flow control paused", "percentunit", []string{s.of("mysql_global_status_wsrep_flow_control_paused")}, "{{pod}}"},
		}},
		{"rabbitmq", "OpenStack / RabbitMQ", []Panel{
			{"Brokers up", "short", []string{s.target("up", TargetRabbitMQ)}, "{{pod}}"},
			{"Ready messages", "short", []string{fmt.Sprintf("sum by (pod) (%s)", s.of("rabbitmq_queue_messages_ready"))}, "{{pod}}"},
			{"Connections", "short", []string{fmt.Sprintf("sum by (pod) (%s)", s.of("rabbitmq_connections"))}, "{{pod}}"},
			{"Published per second", "short", []string{fmt.Sprintf("sum by (pod) (rate(%s[5m]))", s.of("rabbitmq_global_messages_received_total"))}, "{{pod}}"},
			{"Memory used", "bytes", []string{fmt.Sprintf("sum by (pod) (%s)", s.of("rabbitmq_process_resident_memory_bytes"))}, "{{pod}}"},
			{"Notification queues: ready messages", "short", []string{s.of("rabbitmq_detailed_queue_messages_ready", `queue=~"notifications\\..*"`)}, "{{queue}}"},
		}},
		{"openstack-api", "OpenStack / APIs", []Panel{
			{"Internal endpoints up", "short", []string{s.target("osk_openstack_api_up", TargetExporter, `interface="internal"`)}, "{{service}}"},
			{"Public endpoints up", "short", []string{s.target("osk_openstack_api_up", TargetExporter, `interface="public"`)}, "{{service}}"},
			{"Latency", "s", []string{s.target("osk_openstack_api_latency_seconds", TargetExporter)}, "{{service}} {{interface}}"},
			{"Server errors", "percent", []string{fmt.Sprintf("sum by (ingress) (rate(%s[5m])) / sum by (ingress) (rate(%s[5m])) * 100",
				s.of("nginx_ingress_controller_requests", `status=~"5.."`), s.of("nginx_ingress_controller_requests"))}, "{{ingress}}"},
			{"Services and agents down", "short", []string{fmt.Sprintf("count by (service, binary) (%s == 0)", s.target("osk_openstack_agent_up", TargetExporter))}, "{{service}} {{binary}}"},
			{"Certificate expiry", "dateTimeAsIso", []string{s.target("osk_certificate_expiry_timestamp_seconds", TargetExporter)}, "{{host}}"},
		}},
		{"compute-capacity", "OpenStack / Compute capacity", []Panel{
			{"vCPUs used of allocatable", "percentunit", []string{capacityRatio(s, "VCPU")}, "vCPU"},
			{"Memory used of allocatable", "percentunit", []string{capacityRatio(s, "MEMORY_MB")}, "memory"},
			{"Disk used of allocatable", "percentunit", []string{capacityRatio(s, "DISK_GB")}, "disk"},
			{"Allocatable per provider", "short", []string{s.target("osk_openstack_placement_capacity", TargetExporter)}, "{{provider}} {{resource_class}}"},
			{"Hypervisors up", "short", []string{s.target("osk_openstack_hypervisor_up", TargetExporter)}, "{{host}}"},
			{"Running instances", "short", []string{s.target("osk_openstack_hypervisor_running_vms", TargetExporter)}, "{{host}}"},
			{"libvirt up", "short", []string{s.target("libvirt_up", TargetLibvirt)}, "{{pod}}"},
			{"Instance CPU per second", "short", []string{fmt.Sprintf("rate(%s[5m])", s.target("libvirt_domain_info_cpu_time_seconds_total", TargetLibvirt))}, "{{name}} {{domain}}"},
		}},
		{"osk", "OpenStack / osk", []Panel{
			{"Deployment state", "short", []string{s.operator("osk_deployment_state") + " == 1"}, "{{state}}"},
			{"Upgrade step age", "s", []string{fmt.Sprintf("time() - %s", s.operator("osk_deployment_upgrade_step_started_timestamp_seconds"))}, "{{service}} {{step}}"},
			{"Credential age", "s", []string{fmt.Sprintf("time() - %s", s.target("osk_credential_created_timestamp_seconds", TargetExporter))}, "{{secret}}"},
			{"Jobs failed", "short", []string{s.of("kube_job_status_failed") + " > 0"}, "{{job_name}}"},
			{"Exporter collectors up", "short", []string{s.target("osk_exporter_collector_up", TargetExporter)}, "{{collector}}"},
			{"Exporter scrape time", "s", []string{s.target("osk_exporter_collector_duration_seconds", TargetExporter)}, "{{collector}}"},
		}},
	}
}

// capacityRatio is what is used of a resource class over what can be
// allocated, over every provider.
func capacityRatio(s selectors, class string) string {
	c := fmt.Sprintf("resource_class=%q", class)
	return fmt.Sprintf("sum(%s) / sum(%s)", s.target("osk_openstack_placement_used", TargetExporter, c),
		s.target("osk_openstack_placement_capacity", TargetExporter, c))
}

// JSON returns the dashboard in Grafana's model.
func (d Dashboard) JSON() ([]byte, error) {
	var panels []map[string]any
	for i, p := range d.Panels {
		var targets []map[string]any
		for j, q := range p.Queries {
			targets = append(targets, map[string]any{"refId": string(rune('A' + j)), "expr": q, "legendFormat": p.Legend,
				"datasource": map[string]string{"type": "prometheus", "uid": "${datasource}"}})
		}
		panels = append(panels, map[string]any{
			"id": i + 1, "type": "timeseries", "title": p.Title,
			"gridPos":     map[string]int{"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i / 2)},
			"datasource":  map[string]string{"type": "prometheus", "uid": "${datasource}"},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": p.Unit}, "overrides": []any{}},
			"targets":     targets,
		})
	}
	b, err := json.MarshalIndent(map[string]any{
		"uid": "osk-" + d.Name, "title": d.Title, "tags": []string{"osk", "openstack"},
		"schemaVersion": 39, "editable": false, "time": map[string]string{"from": "now-6h", "to": "now"}, "refresh": "1m",
		"templating": map[string]any{"list": []map[string]any{{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"}}},
		"panels":     panels,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", d.Name, err)
	}
	return b, nil
}

// DashboardConfigMap returns the dashboard as a ConfigMap Grafana's
// sidecar loads: meta's labels and DashboardLabel, the JSON as
// <Name>.json.
func DashboardConfigMap(p Params, d Dashboard, meta metav1.ObjectMeta) (*corev1.ConfigMap, error) {
	b, err := d.JSON()
	if err != nil {
		return nil, err
	}
	meta.Name = p.Deployment + "-dashboard-" + d.Name
	meta.Labels = maps.Clone(meta.Labels)
	if meta.Labels == nil {
		meta.Labels = map[string]string{}
	}
	meta.Labels[DashboardLabel] = DashboardLabelValue
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta,
		Data:       map[string]string{"osk-" + d.Name + ".json": string(b)},
	}, nil
}
