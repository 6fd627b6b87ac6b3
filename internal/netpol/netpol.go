// Package netpol evaluates Kubernetes NetworkPolicies: whether the
// policies of a cluster allow one pod to connect to another's port, with
// the semantics of networking.k8s.io/v1. It is pure, for tests: no CNI
// enforces policies where osk's tests run.
package netpol

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Pod is one end of a connection.
type Pod struct {
	// Namespace and Labels select the pod.
	Namespace string
	Labels    map[string]string
	// IP is the address its connections come from: its node's when
	// HostNetwork.
	IP string
	// HostNetwork pods are in their node's network: no policy selects
	// them, and their connections match only ipBlock peers.
	HostNetwork bool
}

// Cluster is a set of policies and the labels of namespaces.
type Cluster struct {
	// Policies of every namespace.
	Policies []networkingv1.NetworkPolicy
	// NamespaceLabels, by namespace; each namespace also carries
	// kubernetes.io/metadata.name.
	NamespaceLabels map[string]map[string]string
}

// Allowed reports whether from may connect to port/protocol of to: to's
// ingress policies and from's egress policies must both allow it.
func (c *Cluster) Allowed(from, to Pod, port int32, protocol corev1.Protocol) bool {
	return c.admits(to, from, port, protocol, networkingv1.PolicyTypeIngress) &&
		c.admits(from, to, port, protocol, networkingv1.PolicyTypeEgress)
}

// admits reports whether the policies of kind that select pod allow the
// connection with peer: a pod no such policy selects allows everything,
// a selected pod the union of the rules.
func (c *Cluster) admits(pod, peer Pod, port int32, protocol corev1.Protocol, kind networkingv1.PolicyType) bool {
	if pod.HostNetwork {
		return true
	}
	selected := false
	for i := range c.Policies {
		p := &c.Policies[i]
		if p.Namespace != pod.Namespace || !hasType(p, kind) || !matches(&p.Spec.PodSelector, pod.Labels) {
			continue
		}
		selected = true
		if c.ruleAllows(p, peer, port, protocol, kind) {
			return true
		}
	}
	return !selected
}

// ruleAllows reports whether one of a policy's rules of kind allows peer.
func (c *Cluster) ruleAllows(p *networkingv1.NetworkPolicy, peer Pod, port int32, protocol corev1.Protocol, kind networkingv1.PolicyType) bool {
	if kind == networkingv1.PolicyTypeIngress {
		for _, r := range p.Spec.Ingress {
			if portsMatch(r.Ports, port, protocol) && c.peersMatch(p.Namespace, r.From, peer) {
				return true
			}
		}
		return false
	}
	for _, r := range p.Spec.Egress {
		if portsMatch(r.Ports, port, protocol) && c.peersMatch(p.Namespace, r.To, peer) {
			return true
		}
	}
	return false
}

// hasType reports whether a policy has rules of kind: policyTypes when
// set; otherwise Ingress always, Egress when it has egress rules.
func hasType(p *networkingv1.NetworkPolicy, kind networkingv1.PolicyType) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return kind == networkingv1.PolicyTypeIngress || len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		if t == kind {
			return true
		}
	}
	return false
}

// portsMatch reports whether a rule's ports include port/protocol; no
// ports means every port. Named ports are not resolved: they never match.
func portsMatch(ports []networkingv1.NetworkPolicyPort, port int32, protocol corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != protocol {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.IntValue() == 0 {
			continue
		}
		last := p.Port.IntVal
		if p.EndPort != nil {
			last = *p.EndPort
		}
		if port >= p.Port.IntVal && port <= last {
			return true
		}
	}
	return false
}

// peersMatch reports whether a rule's peers include pod; no peers means
// every source or destination.
func (c *Cluster) peersMatch(namespace string, peers []networkingv1.NetworkPolicyPeer, pod Pod) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if c.peerMatches(namespace, p, pod) {
			return true
		}
	}
	return false
}

func (c *Cluster) peerMatches(namespace string, p networkingv1.NetworkPolicyPeer, pod Pod) bool {
	if p.IPBlock != nil {
		return inBlock(p.IPBlock, pod.IP)
	}
	if pod.HostNetwork {
		return false
	}
	if p.NamespaceSelector == nil {
		if pod.Namespace != namespace {
			return false
		}
	} else if !matches(p.NamespaceSelector, c.namespaceLabels(pod.Namespace)) {
		return false
	}
	return p.PodSelector == nil || matches(p.PodSelector, pod.Labels)
}

func (c *Cluster) namespaceLabels(ns string) map[string]string {
	out := map[string]string{"kubernetes.io/metadata.name": ns}
	for k, v := range c.NamespaceLabels[ns] {
		out[k] = v
	}
	return out
}

// inBlock reports whether ip is in the block's CIDR and none of its
// exceptions.
func inBlock(b *networkingv1.IPBlock, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	if !contains(b.CIDR, addr) {
		return false
	}
	for _, e := range b.Except {
		if contains(e, addr) {
			return false
		}
	}
	return true
}

func contains(cidr string, addr netip.Addr) bool {
	pfx, err := netip.ParsePrefix(cidr)
	return err == nil && pfx.Contains(addr)
}

// matches reports whether a label selector selects labels; an invalid
// selector selects nothing.
func matches(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(l))
}
