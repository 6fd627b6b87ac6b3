package lifecycle_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/lifecycle"
)

// slimmed returns copies of pods as the operator's cache holds them.
func slimmed(t *testing.T, pods []corev1.Pod) []corev1.Pod {
	t.Helper()
	out := make([]corev1.Pod, len(pods))
	for i := range pods {
		o, err := lifecycle.SlimPod(pods[i].DeepCopy())
		if err != nil {
			t.Fatalf("SlimPod(%s): %v", pods[i].Name, err)
		}
		out[i] = *o.(*corev1.Pod)
	}
	return out
}

// TestSlimPod checks that the cache's copy of a pod keeps its identity,
// labels, node, containers' names and status, and nothing else of the
// spec.
func TestSlimPod(t *testing.T) {
	p := pod("a", labelled("app", "nova"), container(corev1.ContainerStatus{
		Name: "api", Ready: true, RestartCount: 2, Image: "nova:epoxy", ImageID: "sha256:1",
		VolumeMounts: []corev1.VolumeMountStatus{{Name: "etc", MountPath: "/etc/nova"}},
	}))
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	p.Spec = corev1.PodSpec{
		NodeName:   "compute-1",
		Containers: []corev1.Container{{Name: "api", Image: "nova:epoxy", Env: []corev1.EnvVar{{Name: "A", Value: "b"}}}},
		Volumes:    []corev1.Volume{{Name: "etc"}},
	}
	p.Status.PodIP, p.Status.HostIP = "10.0.0.1", "192.168.0.1"
	got := slimmed(t, []corev1.Pod{p})[0]
	want := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: p.Namespace, Labels: p.Labels},
		Spec:       corev1.PodSpec{NodeName: "compute-1", Containers: []corev1.Container{{Name: "api"}}},
		Status: corev1.PodStatus{Phase: p.Status.Phase, Conditions: p.Status.Conditions,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "api", Ready: true, RestartCount: 2}}},
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("SlimPod =\n%+v\nwant\n%+v", got, want)
	}
	if o, err := lifecycle.SlimPod(&corev1.Node{}); err != nil || o == nil {
		t.Errorf("SlimPod(node) = %v, %v; want the node unchanged", o, err)
	}
}
