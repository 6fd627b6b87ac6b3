package sandbox

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestTopologyNodesHaveRoleLabelsAndUniqueAddresses(t *testing.T) {
	topo := Topology{ControlPlane: 3, Compute: 2000, Gateway: 2}
	nodes := topo.Nodes("v1.34.4")
	if len(nodes) != topo.Size() {
		t.Fatalf("got %d nodes, want %d", len(nodes), topo.Size())
	}
	ips, cidrs := map[string]string{}, map[string]string{}
	for _, n := range nodes {
		ip := n.Status.Addresses[0].Address
		if other, dup := ips[ip]; dup {
			t.Fatalf("%s and %s share address %s", other, n.Name, ip)
		}
		ips[ip] = n.Name
		if other, dup := cidrs[n.Spec.PodCIDR]; dup {
			t.Fatalf("%s and %s share pod range %s", other, n.Name, n.Spec.PodCIDR)
		}
		cidrs[n.Spec.PodCIDR] = n.Name
	}
	want := map[string]map[string]string{
		"control-plane-2": {"openstack-control-plane": "enabled"},
		"compute-1999":    {"openstack-compute-node": "enabled", "openvswitch": "enabled"},
		"gateway-0":       {"openstack-gateway": "enabled", "openvswitch": "enabled"},
	}
	for _, n := range nodes {
		labels, ok := want[n.Name]
		if !ok {
			continue
		}
		delete(want, n.Name)
		for k, v := range labels {
			if n.Labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q", n.Name, k, n.Labels[k], v)
			}
		}
		if n.Labels[corev1.LabelHostname] != n.Name || n.Annotations[kwokNodeAnnotation] != "fake" {
			t.Errorf("%s: not a kwok node with its hostname label: %v %v", n.Name, n.Labels, n.Annotations)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing nodes %v", want)
	}
}

func TestVolumesArePinnedToTheirNode(t *testing.T) {
	volumes := Topology{VolumesPerNode: 3, VolumeSize: "50Gi"}.Volumes("compute-7")
	if len(volumes) != 3 {
		t.Fatalf("got %d volumes, want 3", len(volumes))
	}
	for _, v := range volumes {
		term := v.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0]
		if term.Key != corev1.LabelHostname || term.Values[0] != "compute-7" {
			t.Errorf("%s: node affinity %v, want hostname compute-7", v.Name, term)
		}
		if v.Spec.StorageClassName != StorageClassName || v.Spec.Local == nil || v.Spec.Capacity.Storage().String() != "50Gi" {
			t.Errorf("%s: not a 50Gi local volume of %s: %+v", v.Name, StorageClassName, v.Spec)
		}
	}
}
