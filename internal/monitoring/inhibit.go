package monitoring

import (
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
)

// Inhibition mutes the Target alerts while a Source alert fires with the
// same values of the Equal labels: one fault, one alert.
type Inhibition struct {
	// Source is the alert that explains the others.
	Source string
	// Targets are the alerts it mutes.
	Targets []string
	// Equal are the labels source and target must share.
	Equal []string
}

// Inhibitions returns osk's inhibitions. A dead Galera member raises
// GaleraMemberNotReady only; a dead cluster or bus raises its own alert,
// not those of every service behind it.
func Inhibitions() []Inhibition {
	ns := []string{"namespace"}
	return []Inhibition{
		{"GaleraClusterDown", []string{"GaleraMemberNotReady", "GaleraMemberOutOfSync", "GaleraClusterSizeBelowMembers",
			"OpenStackAPIDown", "OpenStackPublicAPIDown", "OpenStackAPIErrors", "OpenStackAPISlow",
			"NovaComputeDown", "NovaControlServiceDown", "NeutronAgentDown", "OskJobFailing"}, ns},
		{"GaleraMemberNotReady", []string{"GaleraClusterSizeBelowMembers"}, ns},
		{"GaleraMemberNotReady", []string{"GaleraMemberOutOfSync"}, []string{"namespace", "pod"}},
		{"RabbitMQDown", []string{"RabbitMQMemoryAlarm", "RabbitMQDiskAlarm", "RabbitMQNotificationsNotConsumed"}, []string{"namespace", "pod"}},
		{"RabbitMQDown", []string{"NovaComputeDown", "NovaControlServiceDown", "NeutronAgentDown"}, ns},
		{"OpenStackAPIDown", []string{"OpenStackPublicAPIDown", "OpenStackAPISlow"}, []string{"namespace", "service"}},
		{"CertificateExpiringCritical", []string{"CertificateExpiringSoon"}, []string{"namespace", "host"}},
		{"GaleraBackupFailed", []string{"OskJobFailing"}, []string{"namespace", "job_name"}},
	}
}

// InhibitRules returns the inhibitions for an AlertmanagerConfig (the
// Prometheus Operator scopes them to its namespace).
func InhibitRules() []monitoringv1alpha1.InhibitRule {
	var out []monitoringv1alpha1.InhibitRule
	for _, in := range Inhibitions() {
		out = append(out, monitoringv1alpha1.InhibitRule{
			SourceMatch: []monitoringv1alpha1.Matcher{{Name: "alertname", Value: in.Source, MatchType: monitoringv1alpha1.MatchEqual}},
			TargetMatch: []monitoringv1alpha1.Matcher{{Name: "alertname", Value: alternatives(in.Targets), MatchType: monitoringv1alpha1.MatchRegexp}},
			Equal:       in.Equal,
		})
	}
	return out
}

// AlertmanagerInhibitRules returns the inhibitions as alertmanager.yml's
// inhibit_rules, for an Alertmanager run without the operator.
func AlertmanagerInhibitRules() []map[string]any {
	var out []map[string]any
	for _, in := range Inhibitions() {
		out = append(out, map[string]any{
			"source_matchers": []string{`alertname="` + in.Source + `"`},
			"target_matchers": []string{`alertname=~"` + alternatives(in.Targets) + `"`},
			"equal":           in.Equal,
		})
	}
	return out
}

func alternatives(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += "|"
		}
		out += n
	}
	return out
}
