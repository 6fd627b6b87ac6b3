package monitoring_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// ruleCase is one promtool test of one alert: input series, when to look,
// and the alerts expected then (none: the alert must stay silent).
type ruleCase struct {
	alert    string
	name     string
	interval string
	series   map[string]string
	at       string
	fires    []firing
}

// firing is one expected alert: its labels besides alertname, and its
// summary (its runbook is the rule's).
type firing struct {
	labels  map[string]string
	summary string
}

const (
	ns      = `namespace="openstack"`
	galera  = `namespace="openstack",osk_target="galera",pod="mariadb-server-1"`
	rabbit  = `namespace="openstack",osk_target="rabbitmq",pod="rabbitmq-0"`
	expo    = `namespace="openstack",osk_target="openstack-exporter"`
	apiIntl = expo + `,service="image",interface="internal",url="http://glance-api:9292"`
	apiPubl = expo + `,service="image",interface="public",url="https://glance.example.com"`
)

func member(extra map[string]string) map[string]string {
	l := map[string]string{"namespace": "openstack", "osk_target": "galera", "pod": "mariadb-server-1"}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

func lbl(kv ...string) map[string]string {
	l := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return l
}

// ruleCases: every alert fires on the series that mean its fault and stays
// silent on the ones that mean health.
var ruleCases = []ruleCase{
	{alert: "GaleraMemberNotReady", name: "mysqld down", series: map[string]string{"mysql_up{" + galera + "}": "1 1 0x10"}, at: "10m",
		fires: []firing{{member(lbl("severity", "warning")), "Galera member mariadb-server-1 is down or does not accept queries"}}},
	{alert: "GaleraMemberNotReady", name: "pod gone", series: map[string]string{"up{" + galera + "}": "0x10"}, at: "10m",
		fires: []firing{{member(lbl("severity", "warning")), "Galera member mariadb-server-1 is down or does not accept queries"}}},
	{alert: "GaleraMemberNotReady", name: "healthy", series: map[string]string{"up{" + galera + "}": "1x10", "mysql_up{" + galera + "}": "1x10", "mysql_global_status_wsrep_ready{" + galera + "}": "1x10"}, at: "10m"},

	{alert: "GaleraMemberOutOfSync", name: "donor", series: map[string]string{"mysql_global_status_wsrep_local_state{" + galera + "}": "2x10"}, at: "10m",
		fires: []firing{{member(lbl("severity", "warning")), "Galera member mariadb-server-1 has not been Synced for 5 minutes (state 2)"}}},
	{alert: "GaleraMemberOutOfSync", name: "synced", series: map[string]string{"mysql_global_status_wsrep_local_state{" + galera + "}": "4x10"}, at: "10m"},

	{alert: "GaleraClusterSizeBelowMembers", name: "two of three", series: map[string]string{
		`mysql_global_status_wsrep_cluster_size{namespace="openstack",pod="mariadb-server-0"}`: "2x5", `mysql_global_status_wsrep_cluster_size{namespace="openstack",pod="mariadb-server-2"}`: "2x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "severity", "warning"), "The Galera cluster has 2 of its 3 members"}}},
	{alert: "GaleraClusterSizeBelowMembers", name: "all three", series: map[string]string{`mysql_global_status_wsrep_cluster_size{namespace="openstack",pod="mariadb-server-0"}`: "3x5"}, at: "5m"},

	{alert: "GaleraClusterDown", name: "no ready member", series: map[string]string{"mysql_global_status_wsrep_ready{" + galera + "}": "0x5", "mysql_up{" + galera + "}": "1x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "severity", "critical"), "No Galera member accepts queries: every OpenStack service has lost its database"}}},
	{alert: "GaleraClusterDown", name: "one ready member", series: map[string]string{"mysql_global_status_wsrep_ready{" + galera + "}": "1x5"}, at: "5m"},

	{alert: "RabbitMQDown", name: "down", series: map[string]string{"up{" + rabbit + "}": "0x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "rabbitmq", "pod", "rabbitmq-0", "severity", "critical"), "RabbitMQ rabbitmq-0 does not answer: its services' RPC stops"}}},
	{alert: "RabbitMQDown", name: "up", series: map[string]string{"up{" + rabbit + "}": "1x5"}, at: "5m"},

	{alert: "RabbitMQMemoryAlarm", name: "alarm", series: map[string]string{"rabbitmq_alarms_memory_used_watermark{" + rabbit + "}": "1x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "rabbitmq", "pod", "rabbitmq-0", "severity", "critical"), "RabbitMQ rabbitmq-0 blocks publishers: memory above its watermark"}}},
	{alert: "RabbitMQMemoryAlarm", name: "no alarm", series: map[string]string{"rabbitmq_alarms_memory_used_watermark{" + rabbit + "}": "0x5"}, at: "5m"},

	{alert: "RabbitMQDiskAlarm", name: "alarm", series: map[string]string{"rabbitmq_alarms_free_disk_space_watermark{" + rabbit + "}": "1x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "rabbitmq", "pod", "rabbitmq-0", "severity", "critical"), "RabbitMQ rabbitmq-0 blocks publishers: free disk below its limit"}}},
	{alert: "RabbitMQDiskAlarm", name: "no alarm", series: map[string]string{"rabbitmq_alarms_free_disk_space_watermark{" + rabbit + "}": "0x5"}, at: "5m"},

	{alert: "RabbitMQNotificationsNotConsumed", name: "piling, no consumer", series: map[string]string{
		"rabbitmq_detailed_queue_messages_ready{" + rabbit + `,vhost="/",queue="notifications.info"}`: "20000x15",
		"rabbitmq_detailed_queue_consumers{" + rabbit + `,vhost="/",queue="notifications.info"}`:      "0x15"}, at: "15m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "rabbitmq", "pod", "rabbitmq-0", "vhost", "/", "queue", "notifications.info", "severity", "warning"),
			"Notification queue notifications.info holds 20000 messages and nothing consumes them"}}},
	{alert: "RabbitMQNotificationsNotConsumed", name: "piling, consumed", series: map[string]string{
		"rabbitmq_detailed_queue_messages_ready{" + rabbit + `,vhost="/",queue="notifications.info"}`: "20000x15",
		"rabbitmq_detailed_queue_consumers{" + rabbit + `,vhost="/",queue="notifications.info"}`:      "1x15"}, at: "15m"},
	{alert: "RabbitMQNotificationsNotConsumed", name: "an RPC queue", series: map[string]string{
		"rabbitmq_detailed_queue_messages_ready{" + rabbit + `,vhost="/",queue="conductor"}`: "20000x15",
		"rabbitmq_detailed_queue_consumers{" + rabbit + `,vhost="/",queue="conductor"}`:      "0x15"}, at: "15m"},

	{alert: "MemcachedDown", name: "down", series: map[string]string{`memcached_up{namespace="openstack",pod="memcached-0"}`: "0x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "pod", "memcached-0", "severity", "warning"), "Memcached memcached-0 does not answer: tokens are validated without cache, APIs slow down"}}},
	{alert: "MemcachedDown", name: "up", series: map[string]string{`memcached_up{namespace="openstack",pod="memcached-0"}`: "1x5", `up{namespace="openstack",osk_target="memcached",pod="memcached-0"}`: "1x5"}, at: "5m"},

	{alert: "OpenStackAPIDown", name: "down", series: map[string]string{"osk_openstack_api_up{" + apiIntl + "}": "0x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "openstack-exporter", "service", "image", "interface", "internal", "url", "http://glance-api:9292", "severity", "critical"),
			"The image API does not answer on its internal endpoint"}}},
	{alert: "OpenStackAPIDown", name: "public down only", series: map[string]string{"osk_openstack_api_up{" + apiIntl + "}": "1x5", "osk_openstack_api_up{" + apiPubl + "}": "0x5"}, at: "5m"},

	{alert: "OpenStackPublicAPIDown", name: "down", series: map[string]string{"osk_openstack_api_up{" + apiPubl + "}": "0x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "openstack-exporter", "service", "image", "interface", "public", "url", "https://glance.example.com", "severity", "critical"),
			"The image API does not answer on its public endpoint https://glance.example.com"}}},
	{alert: "OpenStackPublicAPIDown", name: "up", series: map[string]string{"osk_openstack_api_up{" + apiPubl + "}": "1x5"}, at: "5m"},

	{alert: "OpenStackAPIErrors", name: "10% errors", series: map[string]string{
		`nginx_ingress_controller_requests{namespace="openstack",ingress="glance",status="500"}`: "0+60x20",
		`nginx_ingress_controller_requests{namespace="openstack",ingress="glance",status="200"}`: "0+540x20"}, at: "20m",
		fires: []firing{{lbl("namespace", "openstack", "ingress", "glance", "severity", "warning"), "10.0% of the requests to glance end in a server error"}}},
	{alert: "OpenStackAPIErrors", name: "1% errors", series: map[string]string{
		`nginx_ingress_controller_requests{namespace="openstack",ingress="glance",status="500"}`: "0+6x20",
		`nginx_ingress_controller_requests{namespace="openstack",ingress="glance",status="200"}`: "0+594x20"}, at: "20m"},

	{alert: "OpenStackAPISlow", name: "3 s", series: map[string]string{"osk_openstack_api_latency_seconds{" + apiIntl + "}": "3x15"}, at: "15m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "openstack-exporter", "service", "image", "interface", "internal", "url", "http://glance-api:9292", "severity", "warning"),
			"The image API (internal) takes 3s to answer"}}},
	{alert: "OpenStackAPISlow", name: "0.5 s", series: map[string]string{"osk_openstack_api_latency_seconds{" + apiIntl + "}": "0.5x15"}, at: "15m"},

	agentDown("NovaComputeDown", "compute", "nova-compute", "warning", "nova-compute on cmp-1 is down: its instances run but cannot be managed"),
	agentDisabled("NovaComputeDown", "compute", "nova-compute"),
	agentDown("NovaControlServiceDown", "compute", "nova-conductor", "critical", "nova-conductor on cmp-1 is down"),
	agentDisabled("NovaControlServiceDown", "compute", "nova-scheduler"),
	agentDown("NeutronAgentDown", "network", "neutron-openvswitch-agent", "warning", "neutron-openvswitch-agent on cmp-1 is down: its ports are not wired"),
	agentDisabled("NeutronAgentDown", "network", "neutron-l3-agent"),

	{alert: "LibvirtDown", name: "down", series: map[string]string{`libvirt_up{namespace="openstack",pod="libvirt-x"}`: "0x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "pod", "libvirt-x", "severity", "critical"), "libvirt on libvirt-x does not answer: the node's instances cannot be managed"}}},
	{alert: "LibvirtDown", name: "up", series: map[string]string{`libvirt_up{namespace="openstack",pod="libvirt-x"}`: "1x5"}, at: "5m"},
	{alert: "LibvirtDown", name: "exporter not scraped", series: map[string]string{`up{namespace="openstack",osk_target="libvirt",pod="libvirt-x"}`: "0x5"}, at: "5m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "libvirt", "pod", "libvirt-x", "severity", "critical"), "libvirt on libvirt-x does not answer: the node's instances cannot be managed"}}},
	{alert: "LibvirtDown", name: "scraped, up", series: map[string]string{`up{namespace="openstack",osk_target="libvirt",pod="libvirt-x"}`: "1x5", `libvirt_up{namespace="openstack",pod="libvirt-x"}`: "1x5"}, at: "5m"},

	certCase("CertificateExpiringSoon", "20 days", 20, "warning", "The public certificate of keystone.example.com expires within 30 days"),
	certCase("CertificateExpiringSoon", "40 days", 40, "", ""),
	certCase("CertificateExpiringCritical", "3 days", 3, "critical", "The public certificate of keystone.example.com expires within 7 days"),
	certCase("CertificateExpiringCritical", "20 days", 20, "", ""),

	{alert: "GaleraBackupFailed", name: "failed", series: map[string]string{`kube_job_status_failed{namespace="openstack",job_name="mariadb-backup-full-29"}`: "1x5"}, at: "1m",
		fires: []firing{{lbl("namespace", "openstack", "job_name", "mariadb-backup-full-29", "severity", "warning"), "Database backup mariadb-backup-full-29 failed"}}},
	{alert: "GaleraBackupFailed", name: "another job failed", series: map[string]string{`kube_job_status_failed{namespace="openstack",job_name="nova-db-sync"}`: "1x5"}, at: "1m"},

	{alert: "GaleraBackupTooOld", name: "none for 50 h", interval: "1h", series: map[string]string{`kube_cronjob_status_last_successful_time{namespace="openstack",cronjob="mariadb-backup-incremental"}`: "0x60"}, at: "50h",
		fires: []firing{{lbl("namespace", "openstack", "severity", "warning"), "No database backup succeeded in the last 48 hours"}}},
	{alert: "GaleraBackupTooOld", name: "hourly", interval: "1h", series: map[string]string{`kube_cronjob_status_last_successful_time{namespace="openstack",cronjob="mariadb-backup-incremental"}`: "0+3600x60"}, at: "50h"},

	{alert: "OskDeploymentFailed", name: "failed", series: map[string]string{`osk_deployment_state{namespace="openstack",deployment="osk",state="FAILED"}`: "1x10"}, at: "10m",
		fires: []firing{{lbl("namespace", "openstack", "deployment", "osk", "state", "FAILED", "severity", "critical"), "OpenStackDeployment osk is FAILED"}}},
	{alert: "OskDeploymentFailed", name: "applied", series: map[string]string{`osk_deployment_state{namespace="openstack",deployment="osk",state="FAILED"}`: "0x10", `osk_deployment_state{namespace="openstack",deployment="osk",state="APPLIED"}`: "1x10"}, at: "10m"},

	{alert: "OskUpgradeStuck", name: "90 minutes", series: map[string]string{`osk_deployment_upgrade_step_started_timestamp_seconds{namespace="openstack",deployment="osk",service="compute",step="db-sync"}`: "0x100"}, at: "90m",
		fires: []firing{{lbl("namespace", "openstack", "deployment", "osk", "service", "compute", "step", "db-sync", "severity", "warning"), "The upgrade of compute has been at step db-sync for more than 60 minutes"}}},
	{alert: "OskUpgradeStuck", name: "30 minutes", series: map[string]string{`osk_deployment_upgrade_step_started_timestamp_seconds{namespace="openstack",deployment="osk",service="compute",step="db-sync"}`: "0x100"}, at: "30m"},

	{alert: "OskJobFailing", name: "failed", series: map[string]string{`kube_job_status_failed{namespace="openstack",job_name="nova-db-sync"}`: "1x5"}, at: "1m",
		fires: []firing{{lbl("namespace", "openstack", "job_name", "nova-db-sync", "severity", "warning"), "Job nova-db-sync failed"}}},
	{alert: "OskJobFailing", name: "succeeded", series: map[string]string{`kube_job_status_failed{namespace="openstack",job_name="nova-db-sync"}`: "0x5"}, at: "1m"},
}

func agentSeries(service, binary, enabled string) map[string]string {
	l := expo + `,service="` + service + `",binary="` + binary + `",host="cmp-1"`
	return map[string]string{"osk_openstack_agent_up{" + l + "}": "0x10", "osk_openstack_agent_enabled{" + l + "}": enabled + "x10"}
}

func agentDown(alert, service, binary, severity, summary string) ruleCase {
	return ruleCase{alert: alert, name: binary + " down", series: agentSeries(service, binary, "1"), at: "10m",
		fires: []firing{{lbl("namespace", "openstack", "osk_target", "openstack-exporter", "service", service, "binary", binary, "host", "cmp-1", "severity", severity), summary}}}
}

func agentDisabled(alert, service, binary string) ruleCase {
	return ruleCase{alert: alert, name: binary + " down but disabled", series: agentSeries(service, binary, "0"), at: "10m"}
}

// certCase: a certificate expiring the given number of days after the
// test's start.
func certCase(alert, name string, days int, severity, summary string) ruleCase {
	c := ruleCase{alert: alert, name: name, at: "20m", series: map[string]string{
		"osk_certificate_expiry_timestamp_seconds{" + expo + `,host="keystone.example.com"}`: itoa(days*86400) + "x30"}}
	if severity != "" {
		c.fires = []firing{{lbl("namespace", "openstack", "osk_target", "openstack-exporter", "host", "keystone.example.com", "severity", severity), summary}}
	}
	return c
}

// TestEveryAlertFiresAndStaysSilent: every alert osk renders has a case
// that fires it and one that does not, and no case names an alert osk
// does not render.
func TestEveryAlertFiresAndStaysSilent(t *testing.T) {
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, c := range ruleCases {
		if _, ok := alertByName(t)[c.alert]; !ok {
			t.Errorf("case %q names %s, which osk does not render", c.name, c.alert)
		}
		if len(c.fires) > 0 {
			fires[c.alert] = true
		} else {
			silent[c.alert] = true
		}
	}
	for name := range alertByName(t) {
		if !fires[name] || !silent[name] {
			t.Errorf("%s: a case that fires it: %v, one that does not: %v", name, fires[name], silent[name])
		}
	}
}

// TestRulesWithPromtool runs every case through Debian's promtool against
// the rule file osk renders.
func TestRulesWithPromtool(t *testing.T) {
	proctest.Need(t, "prometheus", "promtool")
	dir := t.TempDir()
	rules, err := monitoring.RuleFile(monitoring.RuleGroups(testParams()))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "rules.yaml"), rules)
	tests, err := yaml.Marshal(promtoolFile(t))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "tests.yaml"), tests)
	cmd := exec.Command("promtool", "test", "rules", "tests.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

func promtoolFile(t *testing.T) map[string]any {
	alerts := alertByName(t)
	var groups []map[string]any
	for _, c := range ruleCases {
		var series []map[string]string
		for s, v := range c.series {
			series = append(series, map[string]string{"series": s, "values": v})
		}
		exp := []map[string]any{}
		for _, f := range c.fires {
			exp = append(exp, map[string]any{"exp_labels": f.labels, "exp_annotations": map[string]string{
				monitoring.AnnotationSummary: f.summary, monitoring.AnnotationRunbook: alerts[c.alert].Runbook}})
		}
		interval := c.interval
		if interval == "" {
			interval = "1m"
		}
		groups = append(groups, map[string]any{"name": c.alert + ": " + c.name, "interval": interval, "input_series": series,
			"alert_rule_test": []map[string]any{{"eval_time": c.at, "alertname": c.alert, "exp_alerts": exp}}})
	}
	return map[string]any{"rule_files": []string{"rules.yaml"}, "evaluation_interval": "1m", "tests": groups}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
