package monitoring

import (
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Annotations of every alert.
const (
	// AnnotationSummary says what is wrong.
	AnnotationSummary = "summary"
	// AnnotationRunbook says what the operator must do.
	AnnotationRunbook = "runbook"
)

// RuleGroups returns the alerts as Prometheus Operator rule groups. Every
// alert carries the severity and the deployment's namespace, so that
// inhibitions can match alerts whose expression drops it (absent()).
func RuleGroups(p Params) []monitoringv1.RuleGroup {
	var out []monitoringv1.RuleGroup
	for _, g := range Groups(p) {
		rg := monitoringv1.RuleGroup{Name: "osk-" + g.Name}
		for _, a := range g.Alerts {
			rg.Rules = append(rg.Rules, rule(p.Namespace, a))
		}
		out = append(out, rg)
	}
	return out
}

func rule(namespace string, a Alert) monitoringv1.Rule {
	d := monitoringv1.Duration(a.For)
	return monitoringv1.Rule{
		Alert: a.Name, Expr: intstr.FromString(a.Expr), For: &d,
		Labels:      map[string]string{"severity": a.Severity, "namespace": namespace},
		Annotations: map[string]string{AnnotationSummary: a.Summary, AnnotationRunbook: a.Runbook},
	}
}

// RuleFile returns the rule groups as a Prometheus rule file, as the
// Prometheus Operator writes them: for promtool and for a Prometheus run
// without the operator.
func RuleFile(groups []monitoringv1.RuleGroup) ([]byte, error) {
	b, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		return nil, fmt.Errorf("writing the rule file: %w", err)
	}
	return b, nil
}

// Object names, after the deployment's name.
const (
	// RuleSuffix names the PrometheusRule: <deployment>-alerts.
	RuleSuffix = "-alerts"
	// InhibitSuffix names the AlertmanagerConfig: <deployment>-inhibitions.
	InhibitSuffix = "-inhibitions"
)

// PrometheusRule returns the deployment's alerts as one PrometheusRule
// with the given metadata's labels and namespace.
func PrometheusRule(p Params, meta metav1.ObjectMeta) *monitoringv1.PrometheusRule {
	meta.Name = p.Deployment + RuleSuffix
	return &monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: meta,
		Spec:       monitoringv1.PrometheusRuleSpec{Groups: RuleGroups(p)},
	}
}

// NullReceiver is the AlertmanagerConfig's receiver: it sends nothing.
const NullReceiver = "osk-none"

// AlertmanagerConfig returns the inhibitions as one AlertmanagerConfig.
// It notifies no one: receivers are the stack's to choose. Its API needs
// a route and receivers (null is refused): a route to a receiver that
// sends nothing, which the Prometheus Operator always lets continue to the
// stack's own routes.
func AlertmanagerConfig(p Params, meta metav1.ObjectMeta) *monitoringv1alpha1.AlertmanagerConfig {
	meta.Name = p.Deployment + InhibitSuffix
	return &monitoringv1alpha1.AlertmanagerConfig{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1alpha1.SchemeGroupVersion.String(), Kind: monitoringv1alpha1.AlertmanagerConfigKind},
		ObjectMeta: meta,
		Spec: monitoringv1alpha1.AlertmanagerConfigSpec{
			Route:        &monitoringv1alpha1.Route{Receiver: NullReceiver, Continue: true},
			Receivers:    []monitoringv1alpha1.Receiver{{Name: NullReceiver}},
			InhibitRules: InhibitRules(),
		},
	}
}

// AddToScheme adds the Prometheus Operator's kinds osk renders to a
// scheme.
func AddToScheme(s *runtime.Scheme) error {
	if err := monitoringv1.AddToScheme(s); err != nil {
		return fmt.Errorf("adding monitoring.coreos.com/v1: %w", err)
	}
	if err := monitoringv1alpha1.AddToScheme(s); err != nil {
		return fmt.Errorf("adding monitoring.coreos.com/v1alpha1: %w", err)
	}
	return nil
}

// Endpoint is a metrics endpoint of a deployment's pods that StackLight
// scrapes through a PodMonitor.
type Endpoint struct {
	// Name names the PodMonitor, <deployment>-<Name>.
	Name string
	// Target is the value of TargetLabel on its series.
	Target string
	// Pods selects the pods.
	Pods map[string]string
	// Port names the pods' metrics port; Path is the metrics path.
	Port, Path string
	// Detailed is a second path on the same port, when set.
	Detailed *Detailed
}

// Detailed is a second metrics path with query parameters (RabbitMQ's
// per-queue metrics).
type Detailed struct {
	// Path and Params are the path and its query parameters.
	Path   string
	Params map[string][]string
}

// PodMonitor returns the PodMonitor of an endpoint: the pods of the
// deployment's namespace, their port and path, and TargetLabel.
func PodMonitor(p Params, e Endpoint, meta metav1.ObjectMeta) *monitoringv1.PodMonitor {
	meta.Name = p.Deployment + "-" + e.Name
	endpoints := []monitoringv1.PodMetricsEndpoint{endpoint(e, e.Path, nil)}
	if e.Detailed != nil {
		endpoints = append(endpoints, endpoint(e, e.Detailed.Path, e.Detailed.Params))
	}
	return &monitoringv1.PodMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PodMonitorsKind},
		ObjectMeta: meta,
		Spec: monitoringv1.PodMonitorSpec{
			Selector:            metav1.LabelSelector{MatchLabels: e.Pods},
			NamespaceSelector:   monitoringv1.NamespaceSelector{MatchNames: []string{p.Namespace}},
			PodMetricsEndpoints: endpoints,
		},
	}
}

func endpoint(e Endpoint, path string, params map[string][]string) monitoringv1.PodMetricsEndpoint {
	target := e.Target
	return monitoringv1.PodMetricsEndpoint{
		Port: &e.Port, Path: path, Params: params,
		RelabelConfigs: []monitoringv1.RelabelConfig{{Action: "replace", TargetLabel: TargetLabel, Replacement: &target}},
	}
}
