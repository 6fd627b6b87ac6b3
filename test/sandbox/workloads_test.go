// Package sandbox_test checks that the sandbox behaves as a cluster does
// for the workloads osk deploys: the real scheduler and controllers place,
// run, complete and replace pods on the simulated nodes.
package sandbox_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// waitTimeout bounds each wait for the cluster to converge; it takes a few
// seconds on the sandbox.
const waitTimeout = time.Minute

func TestMain(m *testing.M) { sandboxtest.Main(m) }

// Osk's node role labels, as the issue defines them.
var (
	controlPlane = map[string]string{"openstack-control-plane": "enabled"}
	openvswitch  = map[string]string{"openvswitch": "enabled"}
)

func TestTopologyHasLabelledNodesWithCapacity(t *testing.T) {
	c := sandboxtest.Get(t).Client()
	want := map[string]int{
		"openstack-control-plane": 3, "openstack-compute-node": 2, "openstack-gateway": 1, "openvswitch": 3,
	}
	for label, count := range want {
		nodes := nodeNames(t, c, map[string]string{label: "enabled"})
		if len(nodes) != count {
			t.Errorf("nodes labelled %s=enabled: got %v, want %d", label, nodes, count)
		}
	}
	var compute corev1.Node
	if err := c.Get(t.Context(), client.ObjectKey{Name: "compute-0"}, &compute); err != nil {
		t.Fatal(err)
	}
	if got := compute.Status.Allocatable.Cpu().Value(); got != 64 {
		t.Errorf("compute-0 allocatable CPU: got %d, want 64", got)
	}
	if got := compute.Status.Allocatable.Pods().Value(); got != 110 {
		t.Errorf("compute-0 allocatable pods: got %d, want 110", got)
	}
	if !sandbox.NodeReady(&compute) {
		t.Errorf("compute-0 is not ready: %v", compute.Status.Conditions)
	}
}

func TestDeploymentWithNodeSelectorLandsOnlyOnLabelledNodes(t *testing.T) {
	env := sandboxtest.Get(t)
	ns, c := env.Namespace(t), env.Client()
	// More replicas than labelled nodes: the scheduler would spread them
	// over all six nodes if it ignored the selector.
	d := deployment(ns, "api", 6, controlPlane)
	create(t, c, d)
	eventually(t, c, d, "deployment api to be available", func() error {
		return replicas("available", d.Status.AvailableReplicas, 6)
	})
	labelled := nodeNames(t, c, controlPlane)
	for _, pod := range pods(t, c, ns, "api") {
		if !slices.Contains(labelled, pod.Spec.NodeName) {
			t.Errorf("pod %s runs on %q, not on a node labelled %v (%v)", pod.Name, pod.Spec.NodeName, controlPlane, labelled)
		}
	}
}

func TestDaemonSetCoversExactlyTheLabelledNodes(t *testing.T) {
	env := sandboxtest.Get(t)
	ns, c := env.Namespace(t), env.Client()
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ovs"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: appLabels("ovs")},
			Template: podTemplate("ovs", openvswitch),
		},
	}
	create(t, c, ds)
	labelled := nodeNames(t, c, openvswitch)
	eventually(t, c, ds, "daemonset ovs to be ready on every labelled node", func() error {
		if ds.Status.DesiredNumberScheduled != int32(len(labelled)) {
			return fmt.Errorf("%d pods desired, want %d", ds.Status.DesiredNumberScheduled, len(labelled))
		}
		return replicas("ready", ds.Status.NumberReady, int32(len(labelled)))
	})
	var covered []string
	for _, pod := range pods(t, c, ns, "ovs") {
		covered = append(covered, pod.Spec.NodeName)
	}
	slices.Sort(covered)
	if !slices.Equal(covered, labelled) {
		t.Errorf("daemonset pods run on %v, want exactly the labelled nodes %v", covered, labelled)
	}
}

func TestJobCompletes(t *testing.T) {
	env := sandboxtest.Get(t)
	ns, c := env.Namespace(t), env.Client()
	template := podTemplate("db-sync", nil)
	template.Spec.RestartPolicy = corev1.RestartPolicyNever
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-sync"},
		Spec: batchv1.JobSpec{
			Completions: ptr.To[int32](3),
			Parallelism: ptr.To[int32](2),
			Template:    template,
		},
	}
	create(t, c, job)
	eventually(t, c, job, "job db-sync to complete", func() error {
		for _, cond := range job.Status.Conditions {
			if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("%d succeeded, %d active, conditions %v", job.Status.Succeeded, job.Status.Active, job.Status.Conditions)
	})
	if job.Status.Succeeded != 3 {
		t.Errorf("job succeeded %d times, want 3", job.Status.Succeeded)
	}
}

func TestStatefulSetWithLocalVolumeClaimsBecomesReady(t *testing.T) {
	env := sandboxtest.Get(t)
	ns, c := env.Namespace(t), env.Client()
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mariadb"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](3),
			ServiceName: "mariadb",
			Selector:    &metav1.LabelSelector{MatchLabels: appLabels("mariadb")},
			Template:    podTemplate("mariadb", controlPlane),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec:       localVolumeClaim("10Gi"),
			}},
		},
	}
	create(t, c, sts)
	eventually(t, c, sts, "statefulset mariadb to be ready", func() error {
		return replicas("ready", sts.Status.ReadyReplicas, 3)
	})
	for _, pod := range pods(t, c, ns, "mariadb") {
		pv := boundVolume(t, c, ns, "data-"+pod.Name)
		if node := volumeNode(pv); node != pod.Spec.NodeName {
			t.Errorf("pod %s runs on %s but its volume %s is on %s", pod.Name, pod.Spec.NodeName, pv.Name, node)
		}
	}
}

func TestDeletedPodIsReplaced(t *testing.T) {
	env := sandboxtest.Get(t)
	ns, c := env.Namespace(t), env.Client()
	create(t, c, deployment(ns, "keystone", 1, controlPlane))
	var original corev1.Pod
	sandboxtest.Eventually(t, waitTimeout, "the keystone pod to be ready", func(ctx context.Context) error {
		return onlyReadyPod(ctx, c, ns, "keystone", "", &original)
	})
	if err := c.Delete(t.Context(), &original); err != nil {
		t.Fatal(err)
	}
	var replacement corev1.Pod
	sandboxtest.Eventually(t, waitTimeout, "a ready replacement of pod "+original.Name, func(ctx context.Context) error {
		return onlyReadyPod(ctx, c, ns, "keystone", original.UID, &replacement)
	})
	err := c.Get(t.Context(), client.ObjectKeyFromObject(&original), &corev1.Pod{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("deleted pod %s: got %v, want it gone", original.Name, err)
	}
}

func TestReleasedLocalVolumeBecomesAvailableAgain(t *testing.T) {
	env := sandboxtest.Get(t)
	ns, c := env.Namespace(t), env.Client()
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "scratch"},
		Spec:       localVolumeClaim("1Gi"),
	}
	create(t, c, claim)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "user"}, Spec: podTemplate("user", nil).Spec}
	pod.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name},
	}}}
	create(t, c, pod)
	eventually(t, c, claim, "claim scratch to be bound", func() error {
		if claim.Status.Phase != corev1.ClaimBound {
			return fmt.Errorf("claim is %s", claim.Status.Phase)
		}
		return nil
	})
	volume := claim.Spec.VolumeName
	for _, obj := range []client.Object{pod, claim} {
		if err := c.Delete(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	sandboxtest.Eventually(t, waitTimeout, "volume "+volume+" to be available again", func(ctx context.Context) error {
		var pv corev1.PersistentVolume
		if err := c.Get(ctx, client.ObjectKey{Name: volume}, &pv); err != nil {
			return err
		}
		if pv.Status.Phase != corev1.VolumeAvailable || pv.Spec.ClaimRef != nil {
			return fmt.Errorf("volume is %s, claimed by %v", pv.Status.Phase, pv.Spec.ClaimRef)
		}
		return nil
	})
}

func TestInstallCRDsServesOsksAPI(t *testing.T) {
	env := sandboxtest.Get(t)
	crds := env.InstallCRDs(t)
	ns := env.Namespace(t)
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.ListKind})
			if err := env.Client().List(t.Context(), list, client.InNamespace(ns)); err != nil {
				t.Errorf("listing %s %s: %v", crd.Name, v.Name, err)
			}
		}
	}
}

// appLabels are the labels of the app's pods.
func appLabels(app string) map[string]string { return map[string]string{"app": app} }

// deployment returns a deployment of app in ns, with count pods restricted
// to nodes with nodeSelector's labels.
func deployment(ns, app string, count int32, nodeSelector map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(count),
			Selector: &metav1.LabelSelector{MatchLabels: appLabels(app)},
			Template: podTemplate(app, nodeSelector),
		},
	}
}

// podTemplate returns a pod template of app, restricted to nodes with
// nodeSelector's labels.
func podTemplate(app string, nodeSelector map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: appLabels(app)},
		Spec: corev1.PodSpec{
			NodeSelector: maps.Clone(nodeSelector),
			Containers: []corev1.Container{{
				Name:  app,
				Image: "registry.invalid/osk/" + app + ":test", // never pulled: kwok plays the kubelet
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("100m"),
					corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			}},
		},
	}
}

// localVolumeClaim is a claim on the local-volume StorageClass.
func localVolumeClaim(size string) corev1.PersistentVolumeClaimSpec {
	return corev1.PersistentVolumeClaimSpec{
		StorageClassName: ptr.To(sandbox.StorageClassName),
		AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceStorage: resource.MustParse(size),
		}},
	}
}

func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(t.Context(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// eventually gets obj again until check, looking at it, returns nil, and
// fails t if that takes longer than waitTimeout.
func eventually(t *testing.T, c client.Client, obj client.Object, what string, check func() error) {
	t.Helper()
	sandboxtest.Eventually(t, waitTimeout, what, func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		return check()
	})
}

// replicas reports whether got of want replicas are in state.
func replicas(state string, got, want int32) error {
	if got != want {
		return fmt.Errorf("%d/%d replicas %s", got, want, state)
	}
	return nil
}

// nodeNames returns the sorted names of the nodes with labels.
func nodeNames(t *testing.T, c client.Client, labels map[string]string) []string {
	t.Helper()
	var nodes corev1.NodeList
	if err := c.List(t.Context(), &nodes, client.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	slices.Sort(names)
	return names
}

// pods returns the pods of app in ns.
func pods(t *testing.T, c client.Client, ns, app string) []corev1.Pod {
	t.Helper()
	var list corev1.PodList
	if err := c.List(t.Context(), &list, client.InNamespace(ns), client.MatchingLabels(appLabels(app))); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) == 0 {
		t.Fatalf("no pod of %s in %s", app, ns)
	}
	return list.Items
}

// onlyReadyPod stores in pod the single pod of app, once it is ready and
// is not the pod with UID not.
func onlyReadyPod(ctx context.Context, c client.Client, ns, app string, not types.UID, pod *corev1.Pod) error {
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels(appLabels(app))); err != nil {
		return err
	}
	if len(list.Items) != 1 {
		return fmt.Errorf("%d pods", len(list.Items))
	}
	p := list.Items[0]
	if p.UID == not {
		return fmt.Errorf("pod %s (%s) is still the only one", p.Name, p.UID)
	}
	if !podReady(&p) {
		return fmt.Errorf("pod %s is %s, not ready", p.Name, p.Status.Phase)
	}
	*pod = p
	return nil
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// boundVolume returns the volume bound to claim ns/name.
func boundVolume(t *testing.T, c client.Client, ns, name string) *corev1.PersistentVolume {
	t.Helper()
	var claim corev1.PersistentVolumeClaim
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &claim); err != nil {
		t.Fatal(err)
	}
	if claim.Status.Phase != corev1.ClaimBound {
		t.Fatalf("claim %s is %s, not bound", name, claim.Status.Phase)
	}
	var pv corev1.PersistentVolume
	if err := c.Get(t.Context(), client.ObjectKey{Name: claim.Spec.VolumeName}, &pv); err != nil {
		t.Fatal(err)
	}
	if pv.Spec.Local == nil || pv.Spec.StorageClassName != sandbox.StorageClassName {
		t.Fatalf("claim %s is bound to %s, not a local volume of %s", name, pv.Name, sandbox.StorageClassName)
	}
	return &pv
}

// volumeNode returns the node a local volume is pinned to.
func volumeNode(pv *corev1.PersistentVolume) string {
	for _, term := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, req := range term.MatchExpressions {
			if req.Key == corev1.LabelHostname && len(req.Values) == 1 {
				return req.Values[0]
			}
		}
	}
	return ""
}
