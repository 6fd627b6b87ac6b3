// Package monitoring builds what StackLight needs to watch a cloud osk
// runs: the alert rules, the Alertmanager inhibitions that keep one fault
// from raising many alerts, and the labels that tie scraped series to a
// deployment. Everything here is pure: the same parameters give the same
// objects.
package monitoring

import (
	"fmt"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Severities of osk's alerts.
const (
	// Critical: the cloud, or a part users see, is down or about to be.
	Critical = "critical"
	// Warning: something needs the operator's attention before it hurts.
	Warning = "warning"
)

// TargetLabel is the label every scrape target osk renders carries: what
// it is (Target*). Rules select series by it and by namespace.
const TargetLabel = "osk_target"

// Values of TargetLabel.
const (
	TargetGalera    = "galera"
	TargetRabbitMQ  = "rabbitmq"
	TargetMemcached = "memcached"
	TargetLibvirt   = "libvirt"
	TargetExporter  = "openstack-exporter"
	TargetEtcd      = "etcd"
	TargetIngress   = "ingress"
)

// Params are what one deployment's monitoring objects depend on.
type Params struct {
	// Namespace and Deployment name the OpenStackDeployment.
	Namespace, Deployment string
	// GaleraMembers is how many Galera members the deployment runs.
	GaleraMembers int
	// Backup is true when database backups are on.
	Backup bool
	// StackLight is the deployment's defaulted features.stacklight.
	StackLight v1.StackLightFeatures
}

// Alert is one alerting rule.
type Alert struct {
	// Name is the alert's name: what is wrong, in CamelCase.
	Name string
	// Expr is its PromQL expression.
	Expr string
	// For is how long Expr must hold before it fires, as Prometheus
	// writes durations ("1m").
	For string
	// Severity is Critical or Warning.
	Severity string
	// Summary says what is wrong; it may use $labels.
	Summary string
	// Runbook says what the operator must do.
	Runbook string
}

// Group is a named group of alerts, evaluated together.
type Group struct {
	// Name is the group's name.
	Name string
	// Alerts are the group's alerts.
	Alerts []Alert
}

// Groups returns every alert of a deployment, by group.
func Groups(p Params) []Group {
	s := selectors{ns: p.Namespace, deployment: p.Deployment}
	gs := []Group{
		{"galera", galeraAlerts(s, p.GaleraMembers)},
		{"rabbitmq", rabbitAlerts(s, p.StackLight.Thresholds)},
		{"memcached", memcachedAlerts(s)},
		{"openstack-api", apiAlerts(s, p.StackLight.Thresholds)},
		{"openstack-services", serviceAlerts(s)},
		{"libvirt", libvirtAlerts(s)},
		{"certificates", certificateAlerts(s, p.StackLight.Thresholds)},
		{"osk", oskAlerts(s, p.StackLight.Thresholds)},
	}
	if p.Backup {
		gs = append(gs, Group{"backup", backupAlerts(s, p.StackLight.Thresholds)})
	}
	return gs
}

// selectors writes the label matchers that tie series to one deployment.
type selectors struct{ ns, deployment string }

// of returns a series selector: the metric in the deployment's namespace,
// with the extra matchers.
func (s selectors) of(metric string, extra ...string) string {
	m := append([]string{fmt.Sprintf("namespace=%q", s.ns)}, extra...)
	return metric + "{" + strings.Join(m, ",") + "}"
}

// target selects the scrape targets of one kind (TargetLabel).
func (s selectors) target(metric, target string, extra ...string) string {
	return s.of(metric, append([]string{fmt.Sprintf("%s=%q", TargetLabel, target)}, extra...)...)
}

// operator selects a series osk's operator publishes about this
// deployment.
func (s selectors) operator(metric string, extra ...string) string {
	return s.of(metric, append([]string{fmt.Sprintf("deployment=%q", s.deployment)}, extra...)...)
}

// down is "the target is not scraped, or says its service is down".
func (s selectors) down(target, upMetric string) string {
	return fmt.Sprintf("%s == 0 or %s == 0", s.target("up", target), s.of(upMetric))
}
