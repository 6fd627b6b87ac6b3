package controllers

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/yaml"

	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
)

// isDeployment tells the examples of OpenStackDeployments from the others
// (examples/helmbundle.yaml).
func isDeployment(t *testing.T, path string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tm.Kind == "OpenStackDeployment"
}

// TestRenderedPodsAreSeen checks what the plan's pod list and the pod
// watch rely on: every pod template of every example carries the label
// the operator's cache selects and the deployment's name as instance.
func TestRenderedPodsAreSeen(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, path := range paths {
		if !isDeployment(t, path) {
			continue
		}
		d, err := manifest.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := render.Render(d, render.Options{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		templates := 0
		for _, o := range res.Objects {
			tpl := render.PodTemplate(o)
			if tpl == nil {
				continue
			}
			templates++
			if l := tpl.Labels; l[render.LabelManagedBy] != render.ManagedBy || l[render.LabelInstance] != d.Name {
				t.Errorf("%s: %s: pod labels %v lack %s=%s or %s=%s", path, render.KeyOf(o), l,
					render.LabelManagedBy, render.ManagedBy, render.LabelInstance, d.Name)
			}
		}
		if templates == 0 {
			t.Errorf("%s: no pod templates", path)
		}
	}
}

// TestPodWatch checks which pod events run a pass, and of which
// deployment.
func TestPodWatch(t *testing.T) {
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nova-api-1", Namespace: "ns",
		Labels: map[string]string{render.LabelInstance: "cloud"}}}
	pending.Status.Phase = corev1.PodPending
	stuck := pending.DeepCopy()
	stuck.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: "0/6 nodes are available"}}
	stuckAgain := stuck.DeepCopy()
	stuckAgain.ResourceVersion = "2"
	p := troubleChanged()
	for _, tc := range []struct {
		name string
		pass bool
		want bool
	}{
		{"a pod without a problem appears", p.Create(event.CreateEvent{Object: pending}), false},
		{"a pod with a problem appears", p.Create(event.CreateEvent{Object: stuck}), true},
		{"a problem appears", p.Update(event.UpdateEvent{ObjectOld: pending, ObjectNew: stuck}), true},
		{"the problem stays as it was", p.Update(event.UpdateEvent{ObjectOld: stuck, ObjectNew: stuckAgain}), false},
		{"the problem clears", p.Update(event.UpdateEvent{ObjectOld: stuck, ObjectNew: pending}), true},
		{"a pod with a problem goes", p.Delete(event.DeleteEvent{Object: stuck}), true},
		{"a pod without a problem goes", p.Delete(event.DeleteEvent{Object: pending}), false},
	} {
		if tc.pass != tc.want {
			t.Errorf("%s: runs a pass %v, want %v", tc.name, tc.pass, tc.want)
		}
	}
	finished := finishedPod("Passed", 1)
	running := finished.DeepCopy()
	running.Status.Phase, running.Status.ContainerStatuses = corev1.PodRunning, nil
	r := tempestReported()
	for _, tc := range []struct {
		name string
		pass bool
		want bool
	}{
		{"a tempest pod reports its result", r.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: &finished}), true},
		{"a tempest pod runs on", r.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: running}), false},
		{"another pod changes", r.Update(event.UpdateEvent{ObjectOld: pending, ObjectNew: stuck}), false},
		{"a tempest pod goes", r.Delete(event.DeleteEvent{Object: &finished}), false},
	} {
		if tc.pass != tc.want {
			t.Errorf("%s: runs a pass %v, want %v", tc.name, tc.pass, tc.want)
		}
	}
	got := deploymentOfPod(t.Context(), stuck)
	if want := (types.NamespacedName{Namespace: "ns", Name: "cloud"}); len(got) != 1 || got[0].NamespacedName != want {
		t.Errorf("the pod's deployment is %v, want %v", got, want)
	}
	if got := deploymentOfPod(t.Context(), &corev1.Pod{}); got != nil {
		t.Errorf("a pod without instance label belongs to %v", got)
	}
}

// TestOwnedWatch checks which events of the objects a deployment owns,
// other than workloads and Jobs, run a pass: a change of what osk wants
// of them, not the status the cluster keeps of them; and not the echoes of
// osk's own writes.
func TestOwnedWatch(t *testing.T) {
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "nova-api", Generation: 1, ResourceVersion: "1"}}
	healthy := pdb.DeepCopy()
	healthy.ResourceVersion, healthy.Status.CurrentHealthy = "2", 2
	edited := pdb.DeepCopy()
	edited.ResourceVersion, edited.Generation = "3", 2
	relabelled := pdb.DeepCopy()
	relabelled.ResourceVersion, relabelled.Labels = "4", map[string]string{"x": "y"}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nova-etc", ResourceVersion: "1"}}
	drifted := secret.DeepCopy()
	drifted.ResourceVersion, drifted.Data = "2", map[string][]byte{"k": []byte("v")}
	p := specChanged()
	for _, tc := range []struct {
		name string
		pass bool
		want bool
	}{
		{"a budget's healthy pods change", p.Update(event.UpdateEvent{ObjectOld: pdb, ObjectNew: healthy}), false},
		{"a budget's spec changes", p.Update(event.UpdateEvent{ObjectOld: pdb, ObjectNew: edited}), true},
		{"a budget's labels change", p.Update(event.UpdateEvent{ObjectOld: pdb, ObjectNew: relabelled}), true},
		{"a Secret changes", p.Update(event.UpdateEvent{ObjectOld: secret, ObjectNew: drifted}), true},
		{"a Secret goes", p.Delete(event.DeleteEvent{Object: secret}), true},
	} {
		if tc.pass != tc.want {
			t.Errorf("%s: runs a pass %v, want %v", tc.name, tc.pass, tc.want)
		}
	}
	// What osk did not write is no echo: the echoes themselves are
	// apply.Written's to tell (its tests).
	mine := notEcho(&apply.Written{})
	if !mine.Create(event.CreateEvent{Object: secret}) || !mine.Update(event.UpdateEvent{ObjectOld: secret, ObjectNew: drifted}) ||
		!mine.Delete(event.DeleteEvent{Object: secret}) {
		t.Error("an event of another writer's starts no pass")
	}
}

// TestTiers: what pods use is applied first, then the RBAC bindings (a
// binding needs its Role, as osk cannot bind), then what runs pods, each
// in its order.
func TestTiers(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nova"}}
	cfg := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nova-etc"}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "nova"}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "nova"}}
	clusterBinding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "osk-ingress"}}
	api := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "nova-api"}}
	sync := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "nova-db-sync"}}
	got := tiers([]client.Object{sync, binding, sa, api, role, clusterBinding, cfg})
	want := [3][]client.Object{{sa, role, cfg}, {binding, clusterBinding}, {sync, api}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("tier %d: %v, want %v", i, got[i], want[i])
		}
	}
}
