package render

import (
	"maps"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/monitoring"
)

// monitoringService is the step the deployment-wide monitoring objects
// are applied with: the database, the first step of every deployment.
var monitoringService = catalog.ConnectDatabase.Service

// scraped are the components whose exporter sidecars StackLight scrapes
// (their port catalog.MetricsPort), with the target label of their series.
var scraped = []struct{ service, component, target string }{
	{catalog.ConnectDatabase.Service, catalog.ConnectDatabase.Component, monitoring.TargetGalera},
}

// renderMonitoring renders StackLight's objects when it is on: the alert
// rules and their inhibitions, and for each scraped component its
// PodMonitor and the NetworkPolicy that lets the stack's namespace reach
// its metrics port; all labelled for the stack's selectors.
func (m *model) renderMonitoring() {
	if !m.d.Spec.Features.StackLight.Enabled {
		return
	}
	p := m.monitoringParams()
	meta := m.meta("", m.stackLabels(m.service(monitoringService), "stacklight"))
	m.add(monitoring.PrometheusRule(p, meta), monitoring.AlertmanagerConfig(p, meta))
	for _, sc := range scraped {
		if m.on[sc.service] {
			m.renderScrape(p, m.service(sc.service), sc.component, sc.target)
		}
	}
}

// stackLabels are a component's labels and the stack's.
func (m *model) stackLabels(s *catalog.Service, component string) map[string]string {
	l := m.labels(s, component)
	maps.Copy(l, m.d.Spec.Features.StackLight.Labels)
	return l
}

// renderScrape renders one component's PodMonitor and metrics policy.
func (m *model) renderScrape(p monitoring.Params, s *catalog.Service, component, target string) {
	c, _ := s.Component(component)
	port, ok := metricsPort(c)
	if !ok {
		return
	}
	pods := selector(m.labels(s, component))
	e := monitoring.Endpoint{Name: s.Project + "-" + component, Target: target, Pods: pods, Port: port.Name, Path: "/metrics"}
	m.add(monitoring.PodMonitor(p, e, m.meta("", m.stackLabels(s, component))))
	scrapers := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"kubernetes.io/metadata.name": m.d.Spec.Features.StackLight.Namespace}}}
	m.add(m.networkPolicy(s.Project+"-"+component+"-metrics", m.labels(s, component), pods,
		[]networkingv1.NetworkPolicyIngressRule{{Ports: policyPorts(port), From: []networkingv1.NetworkPolicyPeer{scrapers}}}))
}

// metricsPort is the metrics port of a component's sidecars.
func metricsPort(c *catalog.Component) (catalog.Port, bool) {
	for _, sc := range c.Sidecars {
		for _, p := range sc.Ports {
			if p.Name == catalog.MetricsPort {
				return p, true
			}
		}
	}
	return catalog.Port{}, false
}

func (m *model) monitoringParams() monitoring.Params {
	db := m.service(monitoringService)
	server, _ := db.Component(catalog.ConnectDatabase.Component)
	return monitoring.Params{
		Namespace: m.d.Namespace, Deployment: m.d.Name, GaleraMembers: int(m.replicas(db, server)),
		Backup: m.d.Spec.Features.Database.Backup.Enabled, StackLight: m.d.Spec.Features.StackLight,
	}
}
