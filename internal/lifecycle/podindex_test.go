package lifecycle

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestPodIndexFindsWhatPodsOfFinds: the index returns, for every kind of
// selector, the very pods a match of every pod returns, in their order.
func TestPodIndexFindsWhatPodsOfFinds(t *testing.T) {
	pod := func(ns, name string, l map[string]string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l}}
	}
	api := map[string]string{"app": "nova", "component": "api"}
	pods := []corev1.Pod{
		pod("ns", "api-1", api), pod("other", "api-2", api),
		pod("ns", "api-3", map[string]string{"app": "nova", "component": "api", "extra": "x"}),
		pod("ns", "conductor-1", map[string]string{"app": "nova", "component": "conductor"}),
		pod("ns", "db-sync-x", map[string]string{batchv1.JobNameLabel: "nova-db-sync"}),
		pod("ns", "bare", nil),
	}
	om := metav1.ObjectMeta{Namespace: "ns", Name: "w"}
	for _, o := range []client.Object{
		&appsv1.Deployment{ObjectMeta: om, Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: api}}},
		&appsv1.StatefulSet{ObjectMeta: om, Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"component": "conductor"}}}},
		&appsv1.DaemonSet{ObjectMeta: om, Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "component", Operator: metav1.LabelSelectorOpIn, Values: []string{"api", "conductor"}}},
		}}},
		&appsv1.DaemonSet{ObjectMeta: om, Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{
			MatchLabels:      map[string]string{"app": "nova"},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "extra", Operator: metav1.LabelSelectorOpDoesNotExist}},
		}}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nova-db-sync"}},
		&appsv1.Deployment{ObjectMeta: om},
		&corev1.Service{ObjectMeta: om},
	} {
		x := newPodIndex(pods)
		for range 2 { // the second time from the index built the first
			if got, want := names(x.of(o)), names(PodsOf(o, pods)); !slices.Equal(got, want) {
				t.Errorf("%T %v: index finds %v, a full match %v", o, labelSelector(o), got, want)
			}
		}
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}
