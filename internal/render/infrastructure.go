package render

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/catalog"
)

// renderBuses runs the RabbitMQ component once per bus, each with its own
// admin credentials.
func (m *model) renderBuses(s *catalog.Service, base fileSet, _ map[string][]byte) {
	for _, bus := range m.Buses() {
		c := s.Components[0]
		c.Name = bus
		fs := m.componentFiles(s, &c, base)
		fs.Set("rabbitmq.conf", "", "default_user", "admin")
		fs.Set("rabbitmq.conf", "", "default_pass", m.creds.Value(catalog.BusSecret(bus), catalog.KeyPassword))
		name := "rabbitmq-" + bus
		files := m.content(s, m.ctx, fs, c.Reads)
		m.add(m.configSecret(name+"-etc", m.labels(s, bus), files))
		w := &workload{s: s, c: &c, ctx: m.ctx, name: name, secret: name + "-etc", files: files}
		m.add(m.podController(w))
		m.add(m.services(w)...)
		m.noteImages(s, &c)
	}
}

// publicPort is a port published through the ingress.
type publicPort struct {
	host, service string
	port          int32
}

// notePublic records a component's public ports under their host names.
func (m *model) notePublic(s *catalog.Service, c *catalog.Component) {
	for _, p := range c.Ports {
		if !p.Public {
			continue
		}
		host := or(p.Host, c.Name)
		if s.Keystone != nil {
			for _, e := range s.Keystone.Endpoints {
				if e.Component == c.Name {
					host = or(e.Host, e.Name)
				}
			}
		}
		m.public = append(m.public, publicPort{host: host, service: s.Project + "-" + c.Name, port: p.Exposed()})
	}
}

// PublicTLSSecret is the kubernetes.io/tls Secret osk assembles from the
// certificate and key the spec points at.
const PublicTLSSecret = "osk-public-endpoints-tls"

// renderIngress publishes the public ports as <host>.<publicDomainName>
// through the deployment's own ingress class.
func (m *model) renderIngress() {
	if len(m.public) == 0 || !m.on["ingress"] {
		return
	}
	s := m.service("ingress")
	class := catalog.IngressClass(m.d.Namespace)
	l := m.labels(s, "controller")
	m.add(&networkingv1.IngressClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass"},
		ObjectMeta: metav1.ObjectMeta{Name: class, Labels: l},
		Spec:       networkingv1.IngressClassSpec{Controller: "osk.dev/" + class},
	})
	m.add(m.ingressRBAC(s, &s.Components[0], class, l)...)
	for _, p := range m.public {
		m.add(m.ingressFor(p, class, l))
	}
}

func (m *model) ingressFor(p publicPort, class string, l map[string]string) *networkingv1.Ingress {
	host := p.host + "." + m.d.Spec.PublicDomainName
	pathType := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: m.meta(p.host, l),
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pathType, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: p.service, Port: networkingv1.ServiceBackendPort{Number: p.port}},
				}}},
			}}}},
		},
	}
	// Images and volumes are uploaded through the API: no body limit.
	ing.Annotations = map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "0"}
	if m.tls[p.service] {
		ing.Annotations[AnnotationBackendProtocol] = "HTTPS"
	}
	if m.d.Spec.Features.SSL.PublicEndpoints != nil {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: PublicTLSSecret}}
	}
	return ing
}

// ingressRBAC lets the ingress controller read what it serves in the
// namespace and the ingress classes of the cluster. Of the Secrets, it
// reads the public endpoints' certificate, or every one where the catalog
// says why it must list them.
func (m *model) ingressRBAC(s *catalog.Service, c *catalog.Component, class string, l map[string]string) []client.Object {
	read := []string{"get", "list", "watch"}
	secrets := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{PublicTLSSecret}, Verbs: read}
	if c.ListsSecrets != "" {
		secrets.ResourceNames = nil
	}
	role, binding := m.role("ingress", l, s.Project, []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps", "endpoints", "pods", "services"}, Verbs: read},
		secrets,
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: read},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses/status"}, Verbs: []string{"update"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
	})
	subject := binding.Subjects
	clusterRole := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: class, Labels: l},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingressclasses"}, Verbs: read},
		},
	}
	clusterBinding := &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: class, Labels: l},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: class},
		Subjects:   subject,
	}
	return []client.Object{role, binding, clusterRole, clusterBinding}
}

// roleShort names the pre-caching DaemonSet of a node role.
var roleShort = map[string]string{
	catalog.RoleControlPlane: "control-plane", catalog.RoleCompute: "compute",
	catalog.RoleOpenVSwitch: "openvswitch", catalog.RoleGateway: "gateway",
}

// renderPrecache renders, per node role, a DaemonSet that pulls every
// image the role's nodes run. Each image runs once as an init container;
// osk's static binary, copied in first, is the no-op they run, since many
// images have no shell. They all run as osk's user: they only run osk.
func (m *model) renderPrecache() {
	s := m.service("image-precaching")
	osk := runtime("osk")
	for _, role := range sortedKeys(m.byRole) {
		images := sortedKeys(m.byRole[role])
		inits := []corev1.Container{{
			Name: "copy-osk", Image: m.images["osk"], Command: []string{"osk", "install", "/precache/osk"},
			VolumeMounts: []corev1.VolumeMount{{Name: "bin", MountPath: "/precache"}},
		}}
		for i, img := range images {
			inits = append(inits, corev1.Container{
				Name: fmt.Sprintf("pull-%d", i), Image: img, Command: []string{"/precache/osk", "version"},
				VolumeMounts: []corev1.VolumeMount{{Name: "bin", MountPath: "/precache"}},
			})
		}
		for i := range inits {
			m.secure(&inits[i], osk, nil, catalog.ProfileInit)
		}
		pause := corev1.Container{Name: "pause", Image: m.images["pause"]}
		m.secure(&pause, runtime("pause"), nil, catalog.ProfileInit)
		spec := corev1.PodSpec{
			ServiceAccountName: s.Project,
			NodeSelector:       map[string]string{role: catalog.RoleValue},
			InitContainers:     inits,
			Containers:         []corev1.Container{pause},
			Volumes:            []corev1.Volume{{Name: "bin", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		}
		securePod(&spec, osk, nil)
		name := "image-precaching-" + roleShort[role]
		l := m.labels(s, roleShort[role])
		m.add(&appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: m.meta(name, l),
			Spec: appsv1.DaemonSetSpec{
				UpdateStrategy: nodeRollout(nil),
				Selector:       &metav1.LabelSelector{MatchLabels: selector(l)},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: l, Annotations: map[string]string{AnnotationConfigHash: hash([]byte(strings.Join(images, ",")))}},
					Spec:       spec,
				},
			},
		})
	}
}

// role returns a Role with rules and its binding to a service account.
func (m *model) role(name string, l map[string]string, account string, rules []rbacv1.PolicyRule) (*rbacv1.Role, *rbacv1.RoleBinding) {
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: m.meta(name, l),
		Rules:      rules,
	}
	binding := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: m.meta(name, l),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: account, Namespace: m.d.Namespace}},
	}
	return role, binding
}
