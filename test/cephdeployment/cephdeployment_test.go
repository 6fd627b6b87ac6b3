package cephdeployment_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/ceph"
	"github.com/oskproject/osk/internal/cephkeys"
	"github.com/oskproject/osk/internal/controllers"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/operator"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/operatortest"
)

// applyTimeout bounds a wait for APPLIED on a loaded two-core machine.
const applyTimeout = 6 * time.Minute

// rookCRDs is where `make rook-crds` writes Rook's CRDs.
var rookCRDs = filepath.Join("..", "testdata", "rook-crds")

// example returns the CephDeployment of examples/ceph.yaml, placed in
// namespace, its storage on the sandbox's three control-plane nodes, its
// Ceph Secret going to openstack.
func example(t *testing.T, namespace, openstack string) *v1.CephDeployment {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", "ceph.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	d := &v1.CephDeployment{}
	for d.Kind != "CephDeployment" {
		d = &v1.CephDeployment{}
		if err := dec.Decode(d); err != nil {
			t.Fatalf("no CephDeployment in examples/ceph.yaml: %v", err)
		}
	}
	d.Namespace, d.Spec.OpenStackNamespace = namespace, openstack
	d.Spec.Nodes = []v1.CephNode{
		{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"openstack-control-plane": "enabled"}},
			Roles: []v1.CephRole{v1.CephRoleMon, v1.CephRoleMgr, v1.CephRoleOSD, v1.CephRoleRGW}, Devices: v1.CephDevices{Names: []string{"sdb"}}},
	}
	return d
}

// TestCephDeployment takes examples/ceph.yaml's CephDeployment through
// its life on the sandbox: every Rook object osk renders passes Rook's
// schema strictly; an OpenStackDeployment that needs Ceph waits for the
// Ceph Secret; once the Rook stand-in marks the objects ready and
// publishes their outputs, osk writes openstack-ceph-keys and the
// OpenStackDeployment reaches APPLIED; a key Rook rotates reaches the
// Secret; a pool that holds data and leaves the spec stays; deleting the CephDeployment is
// refused while its pools hold data, with a condition naming them, and
// goes on once the spec allows it.
func TestCephDeployment(t *testing.T) {
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	env.InstallCRDs(t, rookCRDs)
	c := env.Client()
	rook, openstack := env.Namespace(t), env.Namespace(t)
	d := example(t, rook, openstack)

	checkRookSchema(t, c, d)
	operatortest.Start(t, env.Config(), operator.Options{MetricsAddr: "0", ProbeAddr: "0", Workers: 4, Resync: time.Hour})

	osd, err := manifest.Load(filepath.Join("..", "..", "examples", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	osd.Namespace = openstack
	if err := c.Create(t.Context(), osd); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	waitRookObjects(t, c, rook, map[string]int{ceph.KindCluster: 1, ceph.KindBlockPool: 6, ceph.KindClient: 5, ceph.KindObjectStore: 1})
	checkApplied(t, c, d)
	waitCondition(t, c, d, controllers.ConditionKeysPublished, "WaitingForRook", "CephCluster ceph is not Ready")
	waitOSDCeph(t, c, osd, "SecretMissing", "Secret openstack-ceph-keys does not exist")

	start := time.Now()
	keys := rookStandIn(t, c, rook)
	waitCondition(t, c, d, controllers.ConditionKeysPublished, "Published", "Secret "+openstack+"/openstack-ceph-keys")
	t.Logf("openstack-ceph-keys written %v after the Rook stand-in's outputs", time.Since(start).Round(time.Millisecond))
	checkKeys(t, c, openstack, keys)
	checkStatus(t, c, d)
	waitOSDApplied(t, c, osd)

	rotateKey(t, c, rook, openstack)
	refusePrune(t, c, d)
	refuseDeletion(t, c, d, openstack)
}

// rotateKey rotates cinder's key in Rook's Secret, as Rook would after
// `ceph auth` changed it: osk writes the new key into the Ceph Secret at
// its next look at Rook's outputs.
func rotateKey(t *testing.T, c client.Client, rook, openstack string) {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: rook, Name: "rook-ceph-client-cinder"}, s); err != nil {
		t.Fatal(err)
	}
	key := cephtest.Key()
	s.Data["cinder"] = []byte(key)
	if err := c.Update(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sandboxtest.Eventually(t, 2*time.Minute, "the rotated key in openstack-ceph-keys", func(ctx context.Context) error {
		keys := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: openstack, Name: "openstack-ceph-keys"}, keys); err != nil {
			return err
		}
		if string(keys.Data[cephkeys.ClientKey("cinder")]) != key {
			return fmt.Errorf("client.cinder.key is not the rotated key yet")
		}
		return nil
	})
	t.Logf("the rotated key reached openstack-ceph-keys in %v", time.Since(start).Round(time.Second))
}

// refusePrune removes a pool that holds data from the spec: the pool
// stays, the condition says why, Ready turns false; putting it back
// clears both.
func refusePrune(t *testing.T, c client.Client, d *v1.CephDeployment) {
	t.Helper()
	setPools := func(change func([]v1.CephPool) []v1.CephPool) {
		got := &v1.CephDeployment{}
		sandboxtest.Eventually(t, 30*time.Second, "changing the pools", func(ctx context.Context) error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
				return err
			}
			got.Spec.Pools = change(got.Spec.Pools)
			return c.Update(ctx, got)
		})
	}
	var archive v1.CephPool
	setPools(func(ps []v1.CephPool) []v1.CephPool {
		archive = ps[len(ps)-1]
		return ps[:len(ps)-1]
	})
	waitCondition(t, c, d, controllers.ConditionDeletionAllowed, "PoolsHoldData", "pools archive hold data")
	waitCondition(t, c, d, v1.ConditionReady, "PoolsHoldData", "a pool left out of the spec holds data")
	if n := len(list(t, c, d.Namespace, ceph.KindBlockPool)); n != 6 {
		t.Errorf("%d CephBlockPools after removing a pool that holds data, want the 6 kept", n)
	}
	setPools(func(ps []v1.CephPool) []v1.CephPool { return append(ps, archive) })
	waitCondition(t, c, d, controllers.ConditionDeletionAllowed, "NothingHeld", "no pool")
}

// checkRookSchema creates every object osk renders for d as a dry run
// with strict field validation: Rook's schema must know every field and
// accept every value.
func checkRookSchema(t *testing.T, c client.Client, d *v1.CephDeployment) {
	t.Helper()
	nodes := &corev1.NodeList{}
	if err := c.List(t.Context(), nodes); err != nil {
		t.Fatal(err)
	}
	matched, err := ceph.MatchNodes(d.Spec.Nodes, nodes.Items)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ceph.Render(d, matched)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 13 {
		t.Errorf("%d Rook objects rendered, want 13 (a cluster, 6 pools, 5 clients, an object store)", len(objs))
	}
	for _, o := range objs {
		err := c.Create(t.Context(), o.DeepCopy(), client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict))
		if err != nil {
			t.Errorf("Rook's schema refuses %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

// checkApplied checks that the live Rook objects hold every field osk
// rendered (none pruned by the schema) and osk's owner label.
func checkApplied(t *testing.T, c client.Client, d *v1.CephDeployment) {
	t.Helper()
	live := &v1.CephDeployment{}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(d), live); err != nil {
		t.Fatal(err)
	}
	nodes := &corev1.NodeList{}
	if err := c.List(t.Context(), nodes); err != nil {
		t.Fatal(err)
	}
	matched, _ := ceph.MatchNodes(d.Spec.Nodes, nodes.Items)
	objs, err := ceph.Render(live, matched)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		got := o.DeepCopy()
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(o), got); err != nil {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
		if !apply.Subset(o.Object["spec"], got.Object["spec"]) {
			t.Errorf("%s %s: the stored spec lacks some of what osk rendered:\nrendered %v\nstored %v", o.GetKind(), o.GetName(), o.Object["spec"], got.Object["spec"])
		}
		if got.GetLabels()[apply.LabelOwner] != string(live.UID) {
			t.Errorf("%s %s: labels %v, want the owner %s", o.GetKind(), o.GetName(), got.GetLabels(), live.UID)
		}
	}
}

// checkKeys checks the Ceph Secret against what the stand-in published.
func checkKeys(t *testing.T, c client.Client, openstack string, keys map[string]string) {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: openstack, Name: "openstack-ceph-keys"}, s); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		cephkeys.FSID: standInFSID, cephkeys.MonHost: "v2:192.0.2.10:3300",
		cephkeys.Pool(cephkeys.RoleImages): "images", cephkeys.Pool(cephkeys.RoleMetrics): "metrics",
	}
	for _, cl := range cephkeys.Clients {
		want[cephkeys.ClientKey(cl)] = keys[cl]
	}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("openstack-ceph-keys: %s is %q, want %q", k, s.Data[k], v)
		}
	}
	if _, ok := s.Data[cephkeys.ClientKey("archiver")]; ok {
		t.Error("openstack-ceph-keys holds the key of a user that is not OpenStack's")
	}
	if s.Labels[cephkeys.LabelWatched] != "true" {
		t.Errorf("openstack-ceph-keys lacks the label %s: %v", cephkeys.LabelWatched, s.Labels)
	}
}

// checkStatus checks Ceph's health, capacity and pools in the status.
func checkStatus(t *testing.T, c client.Client, d *v1.CephDeployment) {
	t.Helper()
	got := &v1.CephDeployment{}
	sandboxtest.Eventually(t, time.Minute, "the status to report Ceph's health", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		ready := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		if got.Status.Health != v1.CephHealthOK || got.Status.Capacity == nil || len(got.Status.Pools) != 6 || ready == nil || ready.Status != metav1.ConditionTrue {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
	for _, p := range got.Status.Pools {
		if !p.Created || p.Phase != ceph.PhaseReady {
			t.Errorf("pool %+v, want created and Ready", p)
		}
	}
}

// refuseDeletion deletes the CephDeployment: it is refused with a
// condition while its pools hold data, Rook's objects and the Ceph Secret
// stay; allowing pool deletion lets it go on to the end.
func refuseDeletion(t *testing.T, c client.Client, d *v1.CephDeployment, openstack string) {
	t.Helper()
	if err := c.Delete(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, c, d, controllers.ConditionDeletionAllowed, "PoolsHoldData", "pools archive, backup, images, metrics, vms, volumes hold data")
	got := &v1.CephDeployment{}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatalf("the CephDeployment whose pools hold data is gone: %v", err)
	}
	for kind, n := range map[string]int{ceph.KindCluster: 1, ceph.KindBlockPool: 6, ceph.KindClient: 5, ceph.KindObjectStore: 1} {
		if l := list(t, c, d.Namespace, kind); len(l) != n {
			t.Errorf("%d %ss left while the deletion is refused, want %d", len(l), kind, n)
		}
	}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: openstack, Name: "openstack-ceph-keys"}, &corev1.Secret{}); err != nil {
		t.Errorf("the Ceph Secret while the deletion is refused: %v", err)
	}

	sandboxtest.Eventually(t, 30*time.Second, "allowing pool deletion", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		got.Spec.AllowPoolDeletion = true
		return c.Update(ctx, got)
	})
	sandboxtest.Eventually(t, 2*time.Minute, "the CephDeployment to be deleted", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there (%v), conditions %+v", err, got.Status.Conditions)
		}
		return nil
	})
	for _, kind := range []string{ceph.KindCluster, ceph.KindBlockPool, ceph.KindClient, ceph.KindObjectStore} {
		if l := list(t, c, d.Namespace, kind); len(l) != 0 {
			t.Errorf("%d %ss left after the deletion", len(l), kind)
		}
	}
	err := c.Get(t.Context(), client.ObjectKey{Namespace: openstack, Name: "openstack-ceph-keys"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the Ceph Secret after the deletion: %v, want it gone", err)
	}
}

// waitCondition waits until the CephDeployment's condition has the
// reason and its message holds text.
func waitCondition(t *testing.T, c client.Client, d *v1.CephDeployment, cond, reason, text string) {
	t.Helper()
	got := &v1.CephDeployment{}
	sandboxtest.Eventually(t, 2*time.Minute, cond+" to say "+reason, func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		cc := apimeta.FindStatusCondition(got.Status.Conditions, cond)
		if cc == nil || cc.Reason != reason || !strings.Contains(cc.Message, text) {
			return fmt.Errorf("condition %+v", cc)
		}
		return nil
	})
}

// waitOSDCeph waits until the OpenStackDeployment's Ceph condition has
// the reason and its message holds text.
func waitOSDCeph(t *testing.T, c client.Client, d *v1.OpenStackDeployment, reason, text string) {
	t.Helper()
	got := &v1.OpenStackDeployment{}
	sandboxtest.Eventually(t, 2*time.Minute, "the Ceph condition to say "+reason, func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		cc := apimeta.FindStatusCondition(got.Status.Conditions, controllers.ConditionCephKeys)
		if cc == nil || cc.Reason != reason || !strings.Contains(cc.Message, text) {
			return fmt.Errorf("condition %+v", cc)
		}
		return nil
	})
}

// waitOSDApplied waits until the OpenStackDeployment is APPLIED with its
// Ceph condition complete.
func waitOSDApplied(t *testing.T, c client.Client, d *v1.OpenStackDeployment) {
	t.Helper()
	got := &v1.OpenStackDeployment{}
	start := time.Now()
	sandboxtest.Eventually(t, applyTimeout, d.Name+" to be APPLIED", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		if got.Status.ObservedGeneration != got.Generation || got.Status.State != v1.StateApplied {
			return fmt.Errorf("state %s, progress %s, conditions %+v", got.Status.State, got.Status.Progress, got.Status.Conditions)
		}
		return nil
	})
	t.Logf("%s APPLIED %v after the Ceph Secret", d.Name, time.Since(start).Round(time.Second))
	waitOSDCeph(t, c, d, "Complete", "holds every key")
}
