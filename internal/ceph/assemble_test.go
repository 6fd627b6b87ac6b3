package ceph

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/oskproject/osk/internal/cephkeys"
)

const key = "AQDI6BFrTzOfFxAA8jovXopMLcNCLkeL8ofZRQ=="

func rookObject(kind, name, phase string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "ceph.rook.io/v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "rook-ceph"}, "status": map[string]any{"phase": phase}}}
	for path, v := range fields {
		_ = unstructured.SetNestedField(u.Object, v, strings.Split(path, ".")...)
	}
	return u
}

func published() Published {
	pool := rookObject("CephBlockPool", "images", PhaseReady, nil)
	pool.SetAnnotations(map[string]string{AnnotationRole: cephkeys.RoleImages})
	return Published{
		Cluster:       rookObject("CephCluster", "ceph", PhaseReady, map[string]any{"status.ceph.fsid": "4b5c8c0a-ff60-454b-a1b4-9747aa737d19"}),
		MonEndpoints:  &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: MonEndpointsConfigMap}, Data: map[string]string{MonEndpointsKey: "b=10.0.0.2:6789,a=10.0.0.1:3300"}},
		Pools:         []*unstructured.Unstructured{pool},
		Clients:       []*unstructured.Unstructured{rookObject("CephClient", "glance", PhaseReady, map[string]any{"status.info.secretName": "rook-ceph-client-glance"})},
		ClientSecrets: map[string]*corev1.Secret{"rook-ceph-client-glance": {Data: map[string][]byte{"glance": []byte(key)}}},
		ObjectStore:   rookObject("CephObjectStore", "openstack-store", PhaseReady, map[string]any{"status.info.endpoint": "http://rook-ceph-rgw-openstack-store.rook-ceph.svc:8080"}),
	}
}

// TestAssemble checks the Secret assembled from what Rook publishes.
func TestAssemble(t *testing.T) {
	data, problems := Assemble(published())
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	want := map[string]string{
		cephkeys.FSID:                "4b5c8c0a-ff60-454b-a1b4-9747aa737d19",
		cephkeys.MonHost:             "v2:10.0.0.1:3300,10.0.0.2:6789",
		cephkeys.Pool("images"):      "images",
		cephkeys.ClientKey("glance"): key,
		cephkeys.RGWInternalURL:      "http://rook-ceph-rgw-openstack-store.rook-ceph.svc:8080",
	}
	for k, v := range want {
		if string(data[k]) != v {
			t.Errorf("%s = %q, want %q", k, data[k], v)
		}
	}
	if len(data) != len(want) {
		t.Errorf("%d keys, want %d", len(data), len(want))
	}
	var keys []string
	for k := range data {
		keys = append(keys, k)
	}
	if p := cephkeys.Check(data, keys); len(p) > 0 {
		t.Errorf("the assembled Secret fails osk's checks: %v", p)
	}
}

// TestAssembleNotReady checks that each missing or unready output is
// named, and no key is quoted.
func TestAssembleNotReady(t *testing.T) {
	p := published()
	p.Pools[0].Object["status"] = map[string]any{"phase": "Progressing"}
	p.ClientSecrets = nil
	p.MonEndpoints.Data[MonEndpointsKey] = "a=mon-a:6789"
	unstructured.RemoveNestedField(p.ObjectStore.Object, "status", "info")
	_, problems := Assemble(p)
	want := []string{
		`ConfigMap rook-ceph-mon-endpoints: mon-host has a monitor host that is not an IP address ("mon-a"): Ceph's clients take addresses`,
		`CephBlockPool images is not Ready (phase "Progressing")`,
		"Secret rook-ceph-client-glance of CephClient glance does not exist",
		"CephObjectStore openstack-store reports no endpoint",
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
	p.Cluster = nil
	if _, problems := Assemble(p); problems[0] != "the CephCluster does not exist" {
		t.Errorf("no cluster: %v", problems)
	}
}
