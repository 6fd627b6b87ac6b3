package operator_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/render"
)

// TestComputeReachesApplied deploys examples/compute.yaml and checks where
// everything landed and in which order the jobs ran.
func TestComputeReachesApplied(t *testing.T) {
	c, ns, _ := setup(t)
	// The example's node override is for nodes labelled rack=r2.
	labelNode(t, c, "compute-1", "rack", "r2")
	d := waitState(t, c, deploy(t, c, "compute", ns), v1.StateApplied, applyTimeout)
	if d.Status.Progress != fmt.Sprintf("%d/%d", len(d.Status.Services), len(d.Status.Services)) || d.Status.Health == "" {
		t.Errorf("APPLIED with progress %q, health %q", d.Status.Progress, d.Status.Health)
	}
	nodes := nodeLabels(t, c)
	checkPodsOnRoleNodes(t, c, ns, nodes)
	checkDaemonSetsCoverTheirNodes(t, c, ns, nodes)
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkJobOrder(t, listJobs(t, c, ns), res.Needs)
	checkEverythingApplied(t, c, res.Objects)
}

// checkEverythingApplied fails on any rendered object the cluster does
// not hold once the deployment is APPLIED.
func checkEverythingApplied(t *testing.T, c client.Client, objs []client.Object) {
	t.Helper()
	for _, o := range objs {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GetObjectKind().GroupVersionKind())
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(o), u); err != nil {
			t.Errorf("%s %s is rendered but not in the cluster: %v", u.GetKind(), o.GetName(), err)
		}
	}
}

func labelNode(t *testing.T, c client.Client, node, key, value string) {
	n := &corev1.Node{}
	if err := c.Get(t.Context(), client.ObjectKey{Name: node}, n); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(n.DeepCopy())
	n.Labels[key] = value
	if err := c.Patch(t.Context(), n, patch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		patch := client.MergeFrom(n.DeepCopy())
		delete(n.Labels, key)
		if err := c.Patch(context.Background(), n, patch); err != nil {
			t.Errorf("unlabelling %s: %v", node, err)
		}
	})
}

func nodeLabels(t *testing.T, c client.Client) map[string]map[string]string {
	l := &corev1.NodeList{}
	if err := c.List(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, n := range l.Items {
		out[n.Name] = n.Labels
	}
	return out
}

// matches reports whether a node's labels satisfy a pod's node selector
// and its required NotIn node affinity (the form osk renders).
func matches(labels map[string]string, spec *corev1.PodSpec) bool {
	for k, v := range spec.NodeSelector {
		if labels[k] != v {
			return false
		}
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, e := range term.MatchExpressions {
				if e.Operator == corev1.NodeSelectorOpNotIn && slices.Contains(e.Values, labels[e.Key]) {
					return false
				}
			}
		}
	}
	return true
}

func checkPodsOnRoleNodes(t *testing.T, c client.Client, ns string, nodes map[string]map[string]string) {
	pods := &corev1.PodList{}
	if err := c.List(t.Context(), pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) == 0 {
		t.Fatal("no pods")
	}
	for _, p := range pods.Items {
		if len(p.Spec.NodeSelector) == 0 {
			t.Errorf("pod %s has no role selector", p.Name)
		}
		if !matches(nodes[p.Spec.NodeName], &p.Spec) {
			t.Errorf("pod %s runs on %s, whose labels %v do not match %v", p.Name, p.Spec.NodeName, nodes[p.Spec.NodeName], p.Spec.NodeSelector)
		}
	}
}

func checkDaemonSetsCoverTheirNodes(t *testing.T, c client.Client, ns string, nodes map[string]map[string]string) {
	list := &appsv1.DaemonSetList{}
	if err := c.List(t.Context(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	pods := &corev1.PodList{}
	if err := c.List(t.Context(), pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, ds := range list.Items {
		var want, got []string
		for name, l := range nodes {
			if matches(l, &ds.Spec.Template.Spec) {
				want = append(want, name)
			}
		}
		for _, p := range pods.Items {
			if ref := metav1Controller(&p); ref == ds.Name && p.Status.Phase == corev1.PodRunning {
				got = append(got, p.Spec.NodeName)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if len(want) == 0 || !slices.Equal(want, got) {
			t.Errorf("DaemonSet %s runs on %v, want exactly %v", ds.Name, got, want)
		}
	}
}

func metav1Controller(p *corev1.Pod) string {
	for _, r := range p.OwnerReferences {
		if r.Controller != nil && *r.Controller {
			return r.Name
		}
	}
	return ""
}

// checkJobOrder checks from the Jobs' own times that each started only
// after the Jobs its after-annotation names, and after every Job of the
// services its service needs, had completed.
func checkJobOrder(t *testing.T, all []batchv1.Job, needs map[string][]string) {
	byName := map[string]batchv1.Job{}
	byService := map[string][]batchv1.Job{}
	for _, j := range all {
		if j.Status.StartTime == nil || j.Status.CompletionTime == nil {
			t.Errorf("Job %s did not complete", j.Name)
			continue
		}
		byName[j.Name] = j
		svc := j.Labels[render.LabelService]
		byService[svc] = append(byService[svc], j)
	}
	checked := 0
	before := func(j, first batchv1.Job) {
		checked++
		if j.Status.StartTime.Before(first.Status.CompletionTime) {
			t.Errorf("Job %s started at %s, before %s completed at %s", j.Name, j.Status.StartTime, first.Name, first.Status.CompletionTime)
		}
	}
	for _, j := range byName {
		for _, a := range strings.Split(j.Annotations[render.AnnotationAfter], ",") {
			if first, ok := byName[a]; ok {
				before(j, first)
			}
		}
		for _, n := range needs[j.Labels[render.LabelService]] {
			for _, first := range byService[n] {
				before(j, first)
			}
		}
	}
	if checked < len(byName) {
		t.Errorf("only %d orderings checked for %d Jobs", checked, len(byName))
	}
}
