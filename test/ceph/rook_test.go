package ceph_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/oskproject/osk/internal/ceph"
	"github.com/oskproject/osk/internal/testing/cephtest"
)

// rookStandIn stands in for Rook on the bed. Rook runs Ceph in containers,
// which the bed cannot run; so this does, with Ceph's own CLI, what Rook's
// operator does for each object, and publishes the outputs where and as
// Rook does: status.phase Ready, the CephCluster's status.ceph.fsid, the
// ConfigMap rook-ceph-mon-endpoints, each CephClient's Secret
// rook-ceph-client-<name> named by status.info.secretName, the
// CephObjectStore's status.info.endpoint. Everything that reads those
// outputs (internal/ceph.Assemble) is osk's production code.
type rookStandIn struct {
	t         *testing.T
	cluster   *cephtest.Cluster
	published ceph.Published
}

func newRookStandIn(t *testing.T, c *cephtest.Cluster) *rookStandIn {
	return &rookStandIn{t: t, cluster: c, published: ceph.Published{ClientSecrets: map[string]*corev1.Secret{}}}
}

// loadRook reads the Rook objects of a file of several documents.
func loadRook(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("%s: %v", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// apply reconciles each object as Rook would, in order.
func (r *rookStandIn) apply(objs []*unstructured.Unstructured) {
	r.t.Helper()
	for _, o := range objs {
		switch o.GetKind() {
		case "CephCluster":
			r.cephCluster(o)
		case "CephBlockPool":
			r.blockPool(o)
		case "CephClient":
			r.client(o)
		default:
			r.t.Fatalf("the stand-in does not know %s", o.GetKind())
		}
	}
}

func ready(o *unstructured.Unstructured) {
	_ = unstructured.SetNestedField(o.Object, ceph.PhaseReady, "status", "phase")
}

// cephCluster: the cluster runs already (cephtest.Start is the stand-in
// for Rook's mons, mgr and OSDs); Rook publishes its fsid and monitors.
func (r *rookStandIn) cephCluster(o *unstructured.Unstructured) {
	fsid := strings.TrimSpace(r.cluster.Ceph("fsid"))
	_ = unstructured.SetNestedField(o.Object, fsid, "status", "ceph", "fsid")
	ready(o)
	r.published.Cluster = o
	r.published.MonEndpoints = &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ceph.MonEndpointsConfigMap, Namespace: o.GetNamespace()},
		Data:       map[string]string{ceph.MonEndpointsKey: "a=" + r.cluster.MonAddr},
	}
}

// blockPool creates the pool, replicated as the spec says, for RBD.
func (r *rookStandIn) blockPool(o *unstructured.Unstructured) {
	size, _, _ := unstructured.NestedInt64(o.Object, "spec", "replicated", "size")
	name := o.GetName()
	if size == 0 {
		size = 3
	}
	r.cluster.Ceph("osd", "pool", "create", name, "8", "8", "replicated", "--size", strconv.FormatInt(size, 10))
	r.cluster.Run("rbd", "pool", "init", name)
	ready(o)
	r.published.Pools = append(r.published.Pools, o)
}

// client creates the Ceph user with the spec's caps and publishes its
// key in a Secret of its own, under the user's name.
func (r *rookStandIn) client(o *unstructured.Unstructured) {
	caps, _, _ := unstructured.NestedStringMap(o.Object, "spec", "caps")
	args := []string{"auth", "get-or-create-key", "client." + o.GetName()}
	for _, daemon := range []string{"mon", "mgr", "osd"} {
		if c := caps[daemon]; c != "" {
			args = append(args, daemon, c)
		}
	}
	key := strings.TrimSpace(r.cluster.Ceph(args...))
	secret := "rook-ceph-client-" + o.GetName()
	r.published.ClientSecrets[secret] = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: o.GetNamespace()},
		Data:       map[string][]byte{o.GetName(): []byte(key), "userID": []byte(o.GetName()), "userKey": []byte(key)},
	}
	_ = unstructured.SetNestedField(o.Object, secret, "status", "info", "secretName")
	ready(o)
	r.published.Clients = append(r.published.Clients, o)
}
