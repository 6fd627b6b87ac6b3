package render

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/oskproject/osk/internal/catalog"
)

// NetworkPolicies: every pod of the deployment refuses the connections
// no policy allows (DenyIngressPolicy), and each server component admits,
// port by port, exactly the clients the catalog knows: the components and
// jobs whose files are wired to it (database, buses, memcached, etcd,
// Keystone), those whose Connects name it, the ingress controller on
// public ports, and everyone on Open ports. The APIs that Keystone's
// catalog lists admit every pod of the deployment: OpenStack services
// find each other's APIs through that catalog and the catalog does not
// record who calls whom, and every API request carries a token.
//
// Agents in the host's network connect from their node's address, which
// no pod selector matches, and which every host-network pod of that node
// shares. The ports they need admit features.networkPolicy.nodeCIDRs, or
// every address when it is empty; no other port admits nodes, so a host
// agent reaches only what some host agent needs.

// DenyIngressPolicy is the suffix of the policy that isolates every pod
// of a deployment: <deployment>-deny-ingress.
const DenyIngressPolicy = "-deny-ingress"

// netClient is a kind of pod that connects to servers: a component's
// pods, or a job's.
type netClient struct {
	s *catalog.Service
	// namespace is where its pods run.
	namespace string
	labels    map[string]string
	host      bool
	reads     []string
	connects  []catalog.Connect
	// noDatabase clients get their files without the database wiring.
	noDatabase bool
}

// netServer is a component whose pods serve ports.
type netServer struct {
	s *catalog.Service
	// namespace is where its pods run.
	namespace string
	component string
	name      string
	labels    map[string]string
	ports     []catalog.Port
	api       bool
}

// target is a server's port, by catalog names.
type target struct{ service, component, port string }

// notePods records a workload's pods as a client and, when they serve
// ports outside the host's network, as a server.
func (m *model) notePods(w *workload, labels map[string]string) {
	host := w.c.Privileges != nil && w.c.Privileges.HostNetwork
	m.clients = append(m.clients, netClient{s: w.s, namespace: m.podNamespace(w.c), labels: labels, host: host, reads: w.c.Reads, connects: w.c.Connects, noDatabase: w.c.NoDatabase})
	if len(w.c.Ports) == 0 || host || w.nodeKey != "" {
		return
	}
	m.servers = append(m.servers, netServer{s: w.s, namespace: m.podNamespace(w.c), component: w.c.Name, name: w.name, labels: labels,
		ports: w.c.Ports, api: servesAPI(w.s, w.c.Name)})
}

// noteJob records a job's pods as a client.
func (m *model) noteJob(s *catalog.Service, labels map[string]string, reads []string, connects []catalog.Connect) {
	m.clients = append(m.clients, netClient{s: s, labels: labels, reads: reads, connects: connects})
}

// servesAPI reports whether a component serves one of the service's
// Keystone endpoints.
func servesAPI(s *catalog.Service, component string) bool {
	if s.Keystone == nil {
		return false
	}
	for _, e := range s.Keystone.Endpoints {
		if e.Component == component {
			return true
		}
	}
	return false
}

// targets are the server ports a client needs: its files' wiring and its
// Connects.
func (m *model) targets(c netClient) []target {
	var out []target
	for _, name := range c.reads {
		if f, ok := c.s.File(name); ok {
			for _, w := range f.Wiring {
				if w.Kind == catalog.WireDatabase && c.noDatabase {
					continue
				}
				out = append(out, m.wireTargets(c.s, w)...)
			}
		}
	}
	for _, k := range c.connects {
		out = append(out, m.connectTargets(c.s, k)...)
	}
	return out
}

// wireTargets are the servers a piece of wiring points a file at.
func (m *model) wireTargets(s *catalog.Service, w catalog.Wire) []target {
	keystone := target{"identity", "api", "api"}
	memcached := target{"memcached", "server", "memcache"}
	switch w.Kind {
	case catalog.WireDatabase:
		return []target{{"database", "server", "mysql"}}
	case catalog.WireMessaging:
		if s.Messaging {
			return []target{{"messaging", m.Bus(s), "amqp"}}
		}
	case catalog.WireNotifications:
		if m.NotificationsOn() {
			return []target{{"messaging", NotificationsBus, "amqp"}}
		}
	case catalog.WireAuthToken:
		return []target{keystone, memcached}
	case catalog.WireServiceAuth:
		return []target{keystone}
	case catalog.WireCache:
		return []target{memcached}
	case catalog.WireCoordination:
		return []target{{"coordination", "server", "client"}}
	}
	return nil
}

// connectTargets resolves a Connect: its service defaults to the
// client's, and a bus left empty is the client's buses.
func (m *model) connectTargets(s *catalog.Service, k catalog.Connect) []target {
	svc := or(k.Service, s.Name)
	if svc != "messaging" || k.Component != "" {
		return []target{{svc, k.Component, k.Port}}
	}
	out := []target{{svc, m.Bus(s), k.Port}}
	if m.NotificationsOn() {
		out = append(out, target{svc, NotificationsBus, k.Port})
	}
	return out
}

// renderNetworkPolicies renders the deployment's isolating policy and one
// policy per server.
func (m *model) renderNetworkPolicies() {
	needs := map[target][]netClient{}
	for _, c := range m.clients {
		for _, t := range m.targets(c) {
			needs[t] = append(needs[t], c)
		}
	}
	for _, ns := range Namespaces(m.d) {
		deny := m.networkPolicy(m.d.Name+DenyIngressPolicy, m.policyLabels(),
			map[string]string{LabelInstance: m.d.Name, LabelManagedBy: ManagedBy}, nil)
		deny.Namespace = ns
		m.add(deny)
	}
	for _, srv := range m.servers {
		var rules []networkingv1.NetworkPolicyIngressRule
		for _, p := range srv.ports {
			if r, ok := m.portRule(srv, p, needs[target{srv.s.Name, srv.component, p.Name}]); ok {
				rules = append(rules, r)
			}
		}
		np := m.networkPolicy(srv.name, srv.labels, selector(srv.labels), rules)
		np.Namespace = srv.namespace
		m.add(np)
	}
}

// policyLabels label the deployment-wide policy.
func (m *model) policyLabels() map[string]string {
	return map[string]string{LabelName: ManagedBy, LabelInstance: m.d.Name, LabelPartOf: "openstack", LabelManagedBy: ManagedBy}
}

func (m *model) networkPolicy(name string, labels, pods map[string]string, rules []networkingv1.NetworkPolicyIngressRule) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: m.meta(name, labels),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: pods},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		},
	}
}

// portRule admits a server port's clients; false when it has none.
func (m *model) portRule(srv netServer, p catalog.Port, clients []netClient) (networkingv1.NetworkPolicyIngressRule, bool) {
	r := networkingv1.NetworkPolicyIngressRule{Ports: policyPorts(p)}
	if p.Open {
		return r, true
	}
	var peers []networkingv1.NetworkPolicyPeer
	host := false
	for _, c := range clients {
		if c.host {
			host = true
			continue
		}
		peers = append(peers, m.peerIn(c.namespace, selector(c.labels)))
	}
	if p.Public && m.on["ingress"] {
		peers = append(peers, podPeer(selector(m.labels(m.service("ingress"), "controller"))))
	}
	if srv.api && p.Name == srv.ports[0].Name {
		for _, ns := range Namespaces(m.d) {
			peers = append(peers, m.peerIn(ns, map[string]string{LabelInstance: m.d.Name, LabelManagedBy: ManagedBy}))
		}
		host = true
	}
	if host {
		peers = append(peers, m.nodePeers()...)
	}
	r.From = uniquePeers(peers)
	return r, len(r.From) > 0
}

// policyPorts are a port's TCP port, and its UDP port if it has one.
func policyPorts(p catalog.Port) []networkingv1.NetworkPolicyPort {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	n := intstr.FromInt32(p.Port)
	out := []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &n}}
	if p.UDP {
		out = append(out, networkingv1.NetworkPolicyPort{Protocol: &udp, Port: &n})
	}
	return out
}

func podPeer(labels map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: labels}}
}

// nodePeers are where host-network agents connect from: the spec's node
// networks, or every address.
func (m *model) nodePeers() []networkingv1.NetworkPolicyPeer {
	cidrs := m.d.Spec.Features.NetworkPolicy.NodeCIDRs
	if len(cidrs) == 0 {
		cidrs = []string{"0.0.0.0/0", "::/0"}
	}
	out := make([]networkingv1.NetworkPolicyPeer, len(cidrs))
	for i, c := range cidrs {
		out[i] = networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}}
	}
	return out
}

// uniquePeers drops repeated peers and sorts them, so that the render is
// deterministic.
func uniquePeers(peers []networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyPeer {
	byKey := map[string]networkingv1.NetworkPolicyPeer{}
	for _, p := range peers {
		b, _ := json.Marshal(p)
		byKey[string(b)] = p
	}
	keys := sortedKeys(byKey)
	out := make([]networkingv1.NetworkPolicyPeer, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}
