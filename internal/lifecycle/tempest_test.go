package lifecycle_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/lifecycle"
)

// tempestPod is a pod of the tempest Job whose main container "run"
// (beside a sidecar) ended with code and msg, in phase.
func tempestPod(name string, phase corev1.PodPhase, code int32, msg string) corev1.Pod {
	return pod(name, labelled(batchv1.JobNameLabel, lifecycle.TempestJob), func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{{Name: "run"}, {Name: "sidecar"}}
		p.Status.Phase = phase
		p.Status.ContainerStatuses = []corev1.ContainerStatus{
			{Name: "sidecar", State: corev1.ContainerState{Terminated: terminated(0, "Completed", `{"result":"Failed"}`)}},
			{Name: "run", State: corev1.ContainerState{Terminated: terminated(code, "Completed", msg)}},
		}
	})
}

// tempestJSON is the message of a run that finished at the given minute.
func tempestJSON(verdict string, minute int) string {
	return fmt.Sprintf(`{"result":%q,"passed":313,"failed":2,"skipped":36,"finished":"2026-12-03T10:%02d:00.25Z",`+
		`"failedTests":["a","b"],"results":"/var/lib/tempest/results/1"}`, verdict, minute)
}

func tempestResult(verdict v1.TempestVerdict, minute int) *v1.TempestResult {
	return &v1.TempestResult{
		Result: verdict, Passed: 313, Failed: 2, Skipped: 36,
		Finished:    metav1.NewTime(time.Date(2026, 12, 3, 10, minute, 0, 0, time.UTC)),
		FailedTests: []string{"a", "b"}, Results: "/var/lib/tempest/results/1",
	}
}

// TestTempestResult checks which pods of the tempest Job report a result
// and which result wins.
func TestTempestResult(t *testing.T) {
	succeeded := corev1.PodSucceeded
	many := `{"result":"Failed","passed":1,"failed":12,"skipped":0,"finished":"2026-12-03T10:00:00Z","failedTests":["1","2","3","4","5","6","7","8","9","10","11","12"]}`
	for _, tc := range []struct {
		name string
		pods []corev1.Pod
		want *v1.TempestResult
	}{
		{name: "no pods"},
		{name: "running", pods: []corev1.Pod{tempestPod("tempest-run-a", corev1.PodRunning, 0, "")}},
		{name: "failed pod", pods: []corev1.Pod{tempestPod("tempest-run-a", corev1.PodFailed, 1, tempestJSON("Passed", 1))}},
		{name: "succeeded", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, tempestJSON("Passed", 1))},
			want: tempestResult(v1.TempestPassed, 1)},
		{name: "failed verdict", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, tempestJSON("Failed", 1))},
			want: tempestResult(v1.TempestFailed, 1)},
		{name: "newest run wins", pods: []corev1.Pod{
			tempestPod("tempest-run-b", succeeded, 0, tempestJSON("Passed", 1)),
			tempestPod("tempest-run-a", succeeded, 0, tempestJSON("Failed", 7)),
			tempestPod("tempest-run-c", succeeded, 0, tempestJSON("Passed", 3)),
		}, want: tempestResult(v1.TempestFailed, 7)},
		{name: "malformed JSON", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, `{"result":"Passed","passed":`)}},
		{name: "empty message", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, "")}},
		{name: "null", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, "null")}},
		{name: "unknown verdict", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, strings.Replace(tempestJSON("Passed", 1), "Passed", "Maybe", 1))}},
		{name: "no finishing time", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, `{"result":"Passed","passed":3}`)}},
		{name: "malformed beside a good one", pods: []corev1.Pod{
			tempestPod("tempest-run-a", succeeded, 0, "Traceback (most recent call last):"),
			tempestPod("tempest-run-b", succeeded, 0, tempestJSON("Passed", 1)),
		}, want: tempestResult(v1.TempestPassed, 1)},
		{name: "another Job's pod", pods: []corev1.Pod{
			func() corev1.Pod {
				p := tempestPod("keystone-db-sync-a", succeeded, 0, tempestJSON("Passed", 1))
				p.Labels[batchv1.JobNameLabel] = "keystone-db-sync"
				return p
			}(),
		}},
		{name: "failed tests capped", pods: []corev1.Pod{tempestPod("tempest-run-a", succeeded, 0, many)},
			want: &v1.TempestResult{Result: v1.TempestFailed, Passed: 1, Failed: 12,
				Finished:    metav1.NewTime(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)),
				FailedTests: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pods := range [][]corev1.Pod{tc.pods, slimmed(t, tc.pods)} {
				got := lifecycle.TempestResult(pods)
				if !equality.Semantic.DeepEqual(got, tc.want) {
					t.Errorf("TempestResult = %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}

// TestTempestResultTie checks that two results of the same second give
// the same answer whatever the order of the pods.
func TestTempestResultTie(t *testing.T) {
	a := tempestPod("tempest-run-a", corev1.PodSucceeded, 0, tempestJSON("Failed", 1))
	b := tempestPod("tempest-run-b", corev1.PodSucceeded, 0, tempestJSON("Passed", 1))
	for _, pods := range [][]corev1.Pod{{a, b}, {b, a}} {
		if got := lifecycle.TempestResult(pods); got == nil || got.Result != v1.TempestPassed {
			t.Errorf("TempestResult(%s, %s) = %+v, want the result of tempest-run-b", pods[0].Name, pods[1].Name, got)
		}
	}
}
