package render

import (
	"fmt"
	"maps"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/monitoring"
)

// monitoringService is the step the deployment-wide monitoring objects
// are applied with: the database, the first step of every deployment.
var monitoringService = catalog.ConnectDatabase.Service

// notificationQueues asks RabbitMQ's plugin for each queue's ready
// messages and consumers (RabbitMQNotificationsNotConsumed).
var notificationQueues = map[string][]string{"family": {"queue_coarse_metrics", "queue_consumer_count"}}

// renderMonitoring renders StackLight's objects when it is on: the alert
// rules and their inhibitions, and for each scraped component its
// PodMonitor and the NetworkPolicy that lets the stack's namespace reach
// its metrics port; all labelled for the stack's selectors.
func (m *model) renderMonitoring() error {
	if !m.d.Spec.Features.StackLight.Enabled {
		return nil
	}
	p := m.monitoringParams()
	meta := m.meta("", m.stackLabels(m.service(monitoringService), "stacklight"))
	m.add(monitoring.PrometheusRule(p, meta), monitoring.AlertmanagerConfig(p, meta))
	for _, d := range monitoring.Dashboards(p) {
		cm, err := monitoring.DashboardConfigMap(p, d, meta)
		if err != nil {
			return fmt.Errorf("rendering StackLight's dashboards: %w", err)
		}
		m.add(cm)
	}
	if db := m.service(catalog.ConnectDatabase.Service); m.on[db.Name] {
		server, _ := db.Component(catalog.ConnectDatabase.Component)
		m.renderScrape(p, db, server, server.Name, monitoring.TargetGalera)
	}
	if bus := m.service("messaging"); m.on[bus.Name] {
		for _, name := range m.Buses() {
			m.renderScrape(p, bus, &bus.Components[0], name, monitoring.TargetRabbitMQ)
		}
	}
	for _, st := range [][2]string{{"memcached", monitoring.TargetMemcached}, {"coordination", monitoring.TargetEtcd}, {"ingress", monitoring.TargetIngress},
		{"libvirt", monitoring.TargetLibvirt}} {
		if s := m.service(st[0]); m.on[s.Name] {
			m.renderScrape(p, s, &s.Components[0], s.Components[0].Name, st[1])
		}
	}
	if sl := m.service("stacklight"); m.on[sl.Name] {
		exporter := &sl.Components[0]
		m.renderScrape(p, sl, exporter, exporter.Name, monitoring.TargetExporter)
		m.add(m.exporterRBAC(sl, exporter)...)
	}
	return nil
}

// exporterRBAC lets osk exporter read the metadata of the credential
// Secrets it reports the age of (RBAC cannot grant metadata alone; the
// exporter asks the metadata API, so their data never reaches it) and
// the state of its OpenStackDeployment.
func (m *model) exporterRBAC(s *catalog.Service, c *catalog.Component) []client.Object {
	name := s.Project + "-" + c.Name
	role, binding := m.role(name, m.labels(s, c.Name), s.Project, []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: catalog.ExporterSecrets(m.ctx), Verbs: []string{"get"}},
		{APIGroups: []string{v1.GroupVersion.Group}, Resources: []string{"openstackdeployments"}, ResourceNames: []string{m.d.Name}, Verbs: []string{"get"}},
	})
	return []client.Object{role, binding}
}

// stackLabels are a component's labels and the stack's.
func (m *model) stackLabels(s *catalog.Service, component string) map[string]string {
	l := m.labels(s, component)
	maps.Copy(l, m.d.Spec.Features.StackLight.Labels)
	return l
}

// renderScrape renders the PodMonitor and metrics policy of a component,
// run as name (a bus runs RabbitMQ's component under its own name).
func (m *model) renderScrape(p monitoring.Params, s *catalog.Service, c *catalog.Component, component, target string) {
	port, ok := metricsPort(c)
	if !ok {
		return
	}
	pods := selector(m.labels(s, component))
	e := monitoring.Endpoint{Name: s.Project + "-" + component, Target: target, Pods: pods, Port: port.Name, Path: "/metrics"}
	if component == NotificationsBus {
		e.Detailed = &monitoring.Detailed{Path: "/metrics/detailed", Params: notificationQueues}
	}
	m.add(monitoring.PodMonitor(p, e, m.meta("", m.stackLabels(s, component))))
	scrapers := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"kubernetes.io/metadata.name": m.d.Spec.Features.StackLight.Namespace}}}
	m.add(m.networkPolicy(s.Project+"-"+component+"-metrics", m.labels(s, component), pods,
		[]networkingv1.NetworkPolicyIngressRule{{Ports: policyPorts(port), From: []networkingv1.NetworkPolicyPeer{scrapers}}}))
}

// metricsPort is the metrics port of a component or its sidecars.
func metricsPort(c *catalog.Component) (catalog.Port, bool) {
	ports := slices.Concat(c.Ports, c.MetricsPorts)
	for _, sc := range c.Sidecars {
		ports = append(ports[:len(ports):len(ports)], sc.Ports...)
	}
	for _, p := range ports {
		if p.Name == catalog.MetricsPort {
			return p, true
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

// NotificationQueues are the queues StackLight's notifications consumer
// may read: oslo.messaging's notifications.<priority>.
const NotificationQueues = `^notifications\..*`

// monitoringJobs are StackLight's jobs of a service: for its exporter's
// service, the notifications consumer's user on the notifications bus,
// which may read the notification queues of every service's vhost there
// and do nothing else.
func (m *model) monitoringJobs(s *catalog.Service) []catalog.Job {
	if s.Name != "stacklight" || !m.NotificationsOn() {
		return nil
	}
	cmd := []string{"osk", "job", "rabbit-init", "--user", s.Project, "--vhost", s.Project,
		"--url", fmt.Sprintf("http://%s:15672", m.busHost(NotificationsBus)), "--read-queues", NotificationQueues}
	for _, name := range m.enabled {
		if p := m.service(name); p.Messaging {
			cmd = append(cmd, "--read-vhost", p.Project)
		}
	}
	return []catalog.Job{{Name: "notifications-user", Image: "osk", Command: cmd, Env: []catalog.Env{
		{Name: "RABBITMQ_PASSWORD", Secret: catalog.CredentialSecret(s.Project), Key: catalog.KeyMessagingPassword},
		{Name: "RABBITMQ_ADMIN_PASSWORD", Secret: catalog.BusSecret(NotificationsBus), Key: catalog.KeyPassword},
	}, Connects: []catalog.Connect{{Service: "messaging", Component: NotificationsBus, Port: "management"}}}}
}
