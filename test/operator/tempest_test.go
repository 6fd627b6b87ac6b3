package operator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestTempestResultReachesStatus deploys the minimal example with tempest
// and reports a run's summary the way the tempest Job's container does,
// as its termination message (kwok, which plays the containers here,
// writes none: the test writes it into the pod's status, as a kubelet
// would). The summary must reach status.tempest, and leave it when
// tempest is disabled.
func TestTempestResultReachesStatus(t *testing.T) {
	c, ns, _ := setup(t)
	d := waitState(t, c, deploy(t, c, "minimal", ns, func(d *v1.OpenStackDeployment) {
		d.Spec.Features.Services = append(d.Spec.Features.Services, "tempest")
	}), v1.StateApplied, applyTimeout)
	if d.Status.Tempest != nil {
		t.Fatalf("status.tempest is %+v before any run reported", d.Status.Tempest)
	}
	want := v1.TempestResult{Result: v1.TempestFailed, Passed: 312, Failed: 1, Skipped: 36,
		Finished: metav1.NewTime(time.Now().UTC().Truncate(time.Second)), FailedTests: []string{"tempest.api.identity.test_x"},
		Results: "/var/lib/tempest/workspace"}
	reportTempest(t, c, ns, want)
	sandboxtest.Eventually(t, time.Minute, "status.tempest", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		got := d.Status.Tempest
		if got == nil || got.Result != want.Result || got.Passed != want.Passed || got.Failed != want.Failed ||
			got.Skipped != want.Skipped || !got.Finished.Equal(&want.Finished) || len(got.FailedTests) != 1 {
			return fmt.Errorf("status.tempest is %+v, want %+v", got, want)
		}
		return nil
	})
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.Features.Services = nil })
	d = waitState(t, c, d, v1.StateApplied, applyTimeout)
	if d.Status.Tempest != nil {
		t.Errorf("status.tempest stayed after tempest was disabled: %+v", d.Status.Tempest)
	}
}

// reportTempest writes res as the termination message of the main
// container of the tempest Job's succeeded pod.
func reportTempest(t *testing.T, c client.Client, ns string, res v1.TempestResult) {
	t.Helper()
	msg, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, time.Minute, "the tempest pod's termination message", func(ctx context.Context) error {
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{batchv1.JobNameLabel: lifecycle.TempestJob}); err != nil {
			return err
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Status.Phase != corev1.PodSucceeded || len(p.Status.ContainerStatuses) == 0 {
				continue
			}
			for j := range p.Status.ContainerStatuses {
				cs := &p.Status.ContainerStatuses[j]
				if cs.Name == p.Spec.Containers[0].Name && cs.State.Terminated != nil {
					cs.State.Terminated.Message = string(msg)
					return c.Status().Update(ctx, p)
				}
			}
		}
		return fmt.Errorf("no succeeded pod of Job %s among %d", lifecycle.TempestJob, len(pods.Items))
	})
}
