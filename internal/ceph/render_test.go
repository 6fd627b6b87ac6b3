package ceph

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

// deployment is a CephDeployment with three storage nodes by label, every
// OpenStack pool, an object store and a user of one's own.
func deployment() *v1.CephDeployment {
	return &v1.CephDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "ceph", Namespace: "rook-ceph"},
		Spec: v1.CephDeploymentSpec{
			Network: v1.CephNetwork{Public: "10.10.0.0/24"},
			Nodes: []v1.CephNode{
				{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "storage"}},
					Roles: []v1.CephRole{v1.CephRoleMon, v1.CephRoleMgr, v1.CephRoleOSD}, Devices: v1.CephDevices{Names: []string{"sdb"}, DeviceClass: "ssd"}},
				{Name: "storage-0", Roles: []v1.CephRole{v1.CephRoleRGW, v1.CephRoleOSD}, Devices: v1.CephDevices{Paths: []string{"/dev/disk/by-id/wwn-1"}}},
			},
			Pools: []v1.CephPool{
				{Role: cephkeys.RoleImages, TargetSizeRatio: "0.2"},
				{Role: cephkeys.RoleVolumes, Name: "cinder-volumes", CephPoolLayout: v1.CephPoolLayout{Replicas: 2, DeviceClass: "ssd"}},
				{Role: cephkeys.RoleVMs}, {Role: cephkeys.RoleBackup}, {Role: cephkeys.RoleMetrics},
				{Name: "archive", CephPoolLayout: v1.CephPoolLayout{ErasureCoded: &v1.CephErasureCoding{DataChunks: 2, CodingChunks: 1}, FailureDomain: "osd"}},
			},
			ObjectStore: &v1.CephObjectStoreSpec{Keystone: v1.CephKeystone{URL: "http://keystone-api.openstack.svc:5000", ServiceUserSecret: "rgw-keystone"}},
			Clients:     []v1.CephExtraClient{{Name: "backup-tool", Caps: map[string]string{"mon": "allow r"}}},
		},
	}
}

func storageNodes() []corev1.Node {
	var out []corev1.Node
	for _, n := range []string{"storage-0", "storage-1", "storage-2", "compute-0"} {
		l := map[string]string{"role": "storage"}
		if strings.HasPrefix(n, "compute") {
			l = nil
		}
		out = append(out, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: l}})
	}
	return out
}

func rendered(t *testing.T, d *v1.CephDeployment) map[string]*unstructured.Unstructured {
	t.Helper()
	matched, err := MatchNodes(d.Spec.Nodes, storageNodes())
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Render(d, matched)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetNamespace() != "rook-ceph" || o.GetLabels()[LabelDeployment] != "ceph" || o.GetAPIVersion() != RookAPIVersion {
			t.Errorf("%s %s: namespace %q labels %v apiVersion %q", o.GetKind(), o.GetName(), o.GetNamespace(), o.GetLabels(), o.GetAPIVersion())
		}
		out[o.GetKind()+"/"+o.GetName()] = o
	}
	return out
}

func field(t *testing.T, o *unstructured.Unstructured, path string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, strings.Split(path, ".")...)
	if err != nil || !ok {
		t.Fatalf("%s %s: %s is not set (%v)", o.GetKind(), o.GetName(), path, err)
	}
	return v
}

// TestRenderCluster checks the CephCluster: monitors, managers and OSDs on
// the matched nodes, the devices of every entry that matched a node.
func TestRenderCluster(t *testing.T) {
	c := rendered(t, deployment())["CephCluster/ceph"]
	if c == nil {
		t.Fatal("no CephCluster")
	}
	if got := field(t, c, "spec.mon.count"); got != int64(3) {
		t.Errorf("mon count %v, want 3", got)
	}
	if got := field(t, c, "spec.mgr.count"); got != int64(2) {
		t.Errorf("mgr count %v, want 2", got)
	}
	if got := field(t, c, "spec.network.addressRanges.cluster"); len(got.([]any)) != 1 || got.([]any)[0] != "10.10.0.0/24" {
		t.Errorf("cluster network %v, want the public one", got)
	}
	nodes := field(t, c, "spec.storage.nodes").([]any)
	if len(nodes) != 3 {
		t.Fatalf("storage nodes %v, want storage-0..2", nodes)
	}
	n0 := nodes[0].(map[string]any)
	devs := n0["devices"].([]any)
	if n0["name"] != "storage-0" || len(devs) != 2 || devs[0].(map[string]any)["name"] != "sdb" ||
		devs[1].(map[string]any)["fullpath"] != "/dev/disk/by-id/wwn-1" {
		t.Errorf("storage-0: %v", n0)
	}
	if cls := devs[0].(map[string]any)["config"].(map[string]any)["deviceClass"]; cls != "ssd" {
		t.Errorf("sdb's device class %v, want ssd", cls)
	}
	mons := field(t, c, "spec.placement.mon.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").([]any)
	values := mons[0].(map[string]any)["matchExpressions"].([]any)[0].(map[string]any)["values"].([]any)
	if len(values) != 3 || values[0] != "storage-0" {
		t.Errorf("monitors placed on %v", values)
	}
}

// TestRenderPools checks a CephBlockPool per pool, named after the pool,
// annotated with its role.
func TestRenderPools(t *testing.T) {
	objs := rendered(t, deployment())
	v := objs["CephBlockPool/cinder-volumes"]
	if v == nil || v.GetAnnotations()[AnnotationRole] != cephkeys.RoleVolumes {
		t.Fatalf("volumes pool %v", v)
	}
	if got := field(t, v, "spec.replicated.size"); got != int64(2) {
		t.Errorf("volumes size %v, want 2", got)
	}
	if got := field(t, v, "spec.deviceClass"); got != "ssd" {
		t.Errorf("volumes device class %v", got)
	}
	img := objs["CephBlockPool/images"]
	if got := field(t, img, "spec.replicated.size"); got != int64(DefaultReplicas) {
		t.Errorf("images size %v, want %d", got, DefaultReplicas)
	}
	if got := field(t, img, "spec.parameters.target_size_ratio"); got != "0.2" {
		t.Errorf("images target ratio %v", got)
	}
	if got := field(t, img, "spec.failureDomain"); got != "host" {
		t.Errorf("images failure domain %v, want host", got)
	}
	a := objs["CephBlockPool/archive"]
	if got := field(t, a, "spec.erasureCoded.dataChunks"); got != int64(2) || a.GetAnnotations()[AnnotationRole] != "" {
		t.Errorf("archive: %v", a.Object["spec"])
	}
}

// TestRenderClients checks least privilege: each OpenStack user reaches
// only its pools, cinder reads images only.
func TestRenderClients(t *testing.T) {
	objs := rendered(t, deployment())
	want := map[string]string{
		"glance":        "profile rbd pool=images",
		"cinder":        "profile rbd pool=cinder-volumes, profile rbd pool=vms, profile rbd-read-only pool=images",
		"cinder-backup": "profile rbd pool=backup",
		"gnocchi":       "profile rbd pool=metrics",
		"backup-tool":   "",
	}
	for name, osd := range want {
		c := objs["CephClient/"+name]
		if c == nil {
			t.Errorf("no CephClient %s", name)
			continue
		}
		caps := field(t, c, "spec.caps").(map[string]any)
		if got, _ := caps["osd"].(string); got != osd {
			t.Errorf("%s osd caps %q, want %q", name, got, osd)
		}
	}
	d := deployment()
	d.Spec.Pools = d.Spec.Pools[:1]
	objs = rendered(t, d)
	if objs["CephClient/cinder"] != nil || objs["CephClient/glance"] == nil {
		t.Errorf("with only an images pool, want glance and no cinder user")
	}
}

// TestRenderObjectStore checks Swift behind Keystone on the rgw nodes.
func TestRenderObjectStore(t *testing.T) {
	o := rendered(t, deployment())["CephObjectStore/"+DefaultObjectStore]
	if o == nil {
		t.Fatal("no CephObjectStore")
	}
	for path, want := range map[string]any{
		"spec.auth.keystone.url":                   "http://keystone-api.openstack.svc:5000",
		"spec.auth.keystone.serviceUserSecretName": "rgw-keystone",
		"spec.auth.keystone.implicitTenants":       "true",
		"spec.protocols.swift.accountInUrl":        true,
		"spec.protocols.s3.enabled":                false,
		"spec.gateway.port":                        int64(DefaultRGWPort),
		"spec.gateway.instances":                   int64(1),
		"spec.preservePoolsOnDelete":               true,
	} {
		if got := field(t, o, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
}

// TestRenderRefuses checks that nodes that make no cluster are named.
func TestRenderRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*v1.CephDeployment)
		want   string
	}{
		"even monitors": {func(d *v1.CephDeployment) {
			d.Spec.Nodes[0].Selector.MatchLabels = map[string]string{"none": "x"}
			d.Spec.Nodes[1].Roles = []v1.CephRole{"mon", "mgr", "osd", "rgw"}
			d.Spec.Nodes = append(d.Spec.Nodes, v1.CephNode{Name: "storage-1", Roles: []v1.CephRole{"mon"}})
		}, "2 nodes with the mon role"},
		"no rgw":   {func(d *v1.CephDeployment) { d.Spec.Nodes[1].Roles = []v1.CephRole{"osd"} }, "no node with the rgw role"},
		"no match": {func(d *v1.CephDeployment) { d.Spec.Nodes[0].Selector.MatchLabels = map[string]string{"none": "x"} }, "0 nodes with the mon role"},
	} {
		t.Run(name, func(t *testing.T) {
			d := deployment()
			tc.change(d)
			matched, err := MatchNodes(d.Spec.Nodes, storageNodes())
			if err == nil {
				_, err = Render(d, matched)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "spec.nodes") {
				t.Errorf("got %v, want an error on spec.nodes saying %q", err, tc.want)
			}
		})
	}
}
