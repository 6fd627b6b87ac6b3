package netpol

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func policy(ns string, pods map[string]string, types []networkingv1.PolicyType, in ...networkingv1.NetworkPolicyIngressRule) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p"},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: pods}, PolicyTypes: types, Ingress: in},
	}
}

func tcp(port int32) networkingv1.NetworkPolicyPort {
	p, n := corev1.ProtocolTCP, intstr.FromInt32(port)
	return networkingv1.NetworkPolicyPort{Protocol: &p, Port: &n}
}

func pods(l map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: l}}
}

var (
	db      = Pod{Namespace: "a", Labels: map[string]string{"app": "db"}, IP: "10.0.0.1"}
	api     = Pod{Namespace: "a", Labels: map[string]string{"app": "api"}, IP: "10.0.0.2"}
	web     = Pod{Namespace: "a", Labels: map[string]string{"app": "web"}, IP: "10.0.0.3"}
	other   = Pod{Namespace: "b", Labels: map[string]string{"app": "api"}, IP: "10.0.1.2"}
	agent   = Pod{Namespace: "a", Labels: map[string]string{"app": "agent"}, IP: "192.168.1.5", HostNetwork: true}
	ingress = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
)

func TestAllowed(t *testing.T) {
	dbOnlyAPI := policy("a", map[string]string{"app": "db"}, ingress,
		networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{tcp(3306)}, From: []networkingv1.NetworkPolicyPeer{pods(map[string]string{"app": "api"})}})
	denyAll := policy("a", nil, ingress)
	nodes := policy("a", map[string]string{"app": "db"}, ingress, networkingv1.NetworkPolicyIngressRule{
		Ports: []networkingv1.NetworkPolicyPort{tcp(3306)},
		From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "192.168.0.0/16", Except: []string{"192.168.9.0/24"}}}}})
	otherNS := policy("a", map[string]string{"app": "db"}, ingress, networkingv1.NetworkPolicyIngressRule{
		From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}}}})
	udp := corev1.ProtocolUDP
	cases := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		from, to Pod
		port     int32
		proto    corev1.Protocol
		want     bool
	}{
		{"no policy allows all", nil, web, db, 3306, corev1.ProtocolTCP, true},
		{"selected client on its port", []networkingv1.NetworkPolicy{dbOnlyAPI}, api, db, 3306, corev1.ProtocolTCP, true},
		{"selected client on another port", []networkingv1.NetworkPolicy{dbOnlyAPI}, api, db, 4567, corev1.ProtocolTCP, false},
		{"same port over UDP", []networkingv1.NetworkPolicy{dbOnlyAPI}, api, db, 3306, udp, false},
		{"other client", []networkingv1.NetworkPolicy{dbOnlyAPI}, web, db, 3306, corev1.ProtocolTCP, false},
		{"same labels, other namespace", []networkingv1.NetworkPolicy{dbOnlyAPI}, other, db, 3306, corev1.ProtocolTCP, false},
		{"unselected server", []networkingv1.NetworkPolicy{dbOnlyAPI}, web, api, 80, corev1.ProtocolTCP, true},
		{"deny all", []networkingv1.NetworkPolicy{denyAll}, web, api, 80, corev1.ProtocolTCP, false},
		{"union with deny all", []networkingv1.NetworkPolicy{denyAll, dbOnlyAPI}, api, db, 3306, corev1.ProtocolTCP, true},
		{"host network matches no pod selector", []networkingv1.NetworkPolicy{dbOnlyAPI}, Pod{Namespace: "a", Labels: api.Labels, IP: "192.168.1.5", HostNetwork: true}, db, 3306, corev1.ProtocolTCP, false},
		{"host network in ipBlock", []networkingv1.NetworkPolicy{nodes}, agent, db, 3306, corev1.ProtocolTCP, true},
		{"ipBlock exception", []networkingv1.NetworkPolicy{nodes}, Pod{Namespace: "a", IP: "192.168.9.1", HostNetwork: true}, db, 3306, corev1.ProtocolTCP, false},
		{"pod outside ipBlock", []networkingv1.NetworkPolicy{nodes}, api, db, 3306, corev1.ProtocolTCP, false},
		{"policies do not select host network", []networkingv1.NetworkPolicy{denyAll}, web, agent, 22, corev1.ProtocolTCP, true},
		{"namespace selector", []networkingv1.NetworkPolicy{otherNS}, other, db, 3306, corev1.ProtocolTCP, true},
		{"namespace selector, own namespace unlabelled", []networkingv1.NetworkPolicy{otherNS}, api, db, 3306, corev1.ProtocolTCP, false},
	}
	for _, c := range cases {
		cl := &Cluster{Policies: c.policies, NamespaceLabels: map[string]map[string]string{"b": {"team": "b"}}}
		if got := cl.Allowed(c.from, c.to, c.port, c.proto); got != c.want {
			t.Errorf("%s: Allowed = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEgress(t *testing.T) {
	p := networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{pods(map[string]string{"app": "api"})}}},
		},
	}
	cl := &Cluster{Policies: []networkingv1.NetworkPolicy{p}}
	if !cl.Allowed(web, api, 80, corev1.ProtocolTCP) {
		t.Error("web may not reach api, its egress rule allows it")
	}
	if cl.Allowed(web, db, 3306, corev1.ProtocolTCP) {
		t.Error("web reaches db, its egress policy allows only api")
	}
	if !cl.Allowed(api, db, 3306, corev1.ProtocolTCP) {
		t.Error("api may not reach db, no policy selects either")
	}
}
