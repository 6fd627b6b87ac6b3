package controllers

import (
	"fmt"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/lifecycle"
)

// finishedPod is a succeeded pod of the tempest Job reporting a run that
// finished at the given minute.
func finishedPod(verdict string, minute int) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("tempest-run-%d", minute),
		Labels: map[string]string{batchv1.JobNameLabel: lifecycle.TempestJob}}}
	p.Spec.Containers = []corev1.Container{{Name: "run"}}
	p.Status.Phase = corev1.PodSucceeded
	msg := fmt.Sprintf(`{"result":%q,"passed":1,"failed":0,"skipped":0,"finished":"2026-12-03T10:%02d:00Z"}`, verdict, minute)
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "run",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Message: msg}}}}
	return p
}

// TestTempestStatus checks that status.tempest holds the latest finished
// run: kept while no pod reports a newer one, gone with the service.
func TestTempestStatus(t *testing.T) {
	old := lifecycle.TempestResult([]corev1.Pod{finishedPod("Failed", 1)})
	running := finishedPod("Passed", 5)
	running.Status.Phase = corev1.PodRunning
	for _, tc := range []struct {
		name    string
		prev    *v1.TempestResult
		pods    []corev1.Pod
		enabled bool
		want    string // the verdict and minute of the result, or "none"
	}{
		{name: "never ran", enabled: true, want: "none"},
		{name: "first run", pods: []corev1.Pod{finishedPod("Passed", 1)}, enabled: true, want: "Passed 1"},
		{name: "pods gone", prev: old, enabled: true, want: "Failed 1"},
		{name: "re-run in progress", prev: old, pods: []corev1.Pod{running}, enabled: true, want: "Failed 1"},
		{name: "re-run finished", prev: old, pods: []corev1.Pod{finishedPod("Passed", 5)}, enabled: true, want: "Passed 5"},
		{name: "older pod than status", prev: lifecycle.TempestResult([]corev1.Pod{finishedPod("Passed", 9)}),
			pods: []corev1.Pod{finishedPod("Failed", 5)}, enabled: true, want: "Passed 9"},
		{name: "disabled", prev: old, pods: []corev1.Pod{finishedPod("Passed", 5)}, want: "none"},
	} {
		got := "none"
		if r := tempestStatus(tc.prev, tc.pods, tc.enabled); r != nil {
			got = fmt.Sprintf("%s %d", r.Result, r.Finished.Minute())
		}
		if got != tc.want {
			t.Errorf("%s: status.tempest %s; want %s", tc.name, got, tc.want)
		}
	}
}
