package cephdeployment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/ceph"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
)

// The stand-in's published values: a documentation address (TEST-NET-1)
// for the monitor, a fixed fsid.
const (
	standInFSID = "5f0c3a9e-2d41-4b6a-9c8e-1a2b3c4d5e6f"
	standInMons = "a=192.0.2.10:3300"
)

// rookStandIn does what Rook's operator would do for the objects osk
// rendered in namespace, which cannot run here (no container runtime):
// it marks each one ready in its status as Rook does, and publishes
// Rook's outputs: a Secret rook-ceph-client-<name> per CephClient, the
// monitors' ConfigMap, the cluster's fsid, health and capacity, the
// object store's endpoint. It returns the client keys it made, by user.
func rookStandIn(t *testing.T, c client.Client, namespace string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	mons := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ceph.MonEndpointsConfigMap, Namespace: namespace},
		Data: map[string]string{ceph.MonEndpointsKey: standInMons}}
	if err := c.Create(t.Context(), mons); err != nil {
		t.Fatalf("Rook stand-in: %v", err)
	}
	for _, kind := range []string{ceph.KindCluster, ceph.KindBlockPool, ceph.KindClient, ceph.KindObjectStore} {
		for i, o := range list(t, c, namespace, kind) {
			status := map[string]any{"phase": ceph.PhaseReady}
			switch kind {
			case ceph.KindCluster:
				status["ceph"] = map[string]any{"health": "HEALTH_OK", "fsid": standInFSID,
					"capacity": map[string]any{"bytesTotal": int64(3 << 40), "bytesUsed": int64(1 << 30), "bytesAvailable": int64(3<<40 - 1<<30)}}
			case ceph.KindBlockPool:
				status["poolID"] = int64(i + 1)
			case ceph.KindClient:
				secret := "rook-ceph-client-" + o.GetName()
				keys[o.GetName()] = cephtest.Key()
				s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: namespace},
					Data: map[string][]byte{o.GetName(): []byte(keys[o.GetName()])}}
				if err := c.Create(t.Context(), s); err != nil {
					t.Fatalf("Rook stand-in: %v", err)
				}
				status["info"] = map[string]any{"secretName": secret}
			case ceph.KindObjectStore:
				status["info"] = map[string]any{"endpoint": "http://rook-ceph-rgw-" + o.GetName() + "." + namespace + ".svc:8080"}
			}
			patch := o.DeepCopy()
			patch.Object["status"] = status
			if err := c.Status().Patch(t.Context(), patch, client.MergeFrom(o)); err != nil {
				t.Fatalf("Rook stand-in: marking %s %s ready: %v", kind, o.GetName(), err)
			}
		}
	}
	return keys
}

// list lists Rook's objects of a kind in namespace.
func list(t *testing.T, c client.Client, namespace, kind string) []*unstructured.Unstructured {
	t.Helper()
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion(ceph.RookAPIVersion)
	l.SetKind(kind + "List")
	if err := c.List(t.Context(), l, client.InNamespace(namespace)); err != nil {
		t.Fatalf("listing %ss: %v", kind, err)
	}
	out := make([]*unstructured.Unstructured, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// waitRookObjects waits until namespace holds want objects of each kind.
func waitRookObjects(t *testing.T, c client.Client, namespace string, want map[string]int) {
	t.Helper()
	sandboxtest.Eventually(t, 2*time.Minute, "osk to apply Rook's objects", func(context.Context) error {
		for kind, n := range want {
			if got := len(list(t, c, namespace, kind)); got != n {
				return fmt.Errorf("%d %ss, want %d", got, kind, n)
			}
		}
		return nil
	})
}
