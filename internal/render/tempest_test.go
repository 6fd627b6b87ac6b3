package render_test

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/lifecycle"
)

// TestTempestJobReportsItsResult checks that the Job the operator reads
// Tempest's result from is rendered under that name, and that its main
// container's termination message is the file the run writes
// (/dev/termination-log, policy File), never a log tail.
func TestTempestJobReportsItsResult(t *testing.T) {
	var job *batchv1.Job
	for _, o := range renderExample(t, "full", nil).Objects {
		if j, ok := o.(*batchv1.Job); ok && j.Name == lifecycle.TempestJob {
			job = j
		}
	}
	if job == nil {
		t.Fatalf("no Job %s rendered for examples/full.yaml, which enables tempest", lifecycle.TempestJob)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if p := c.TerminationMessagePolicy; p != "" && p != corev1.TerminationMessageReadFile {
		t.Errorf("container %s: terminationMessagePolicy %s; want File (the default)", c.Name, p)
	}
	if p := c.TerminationMessagePath; p != "" && p != corev1.TerminationMessagePathDefault {
		t.Errorf("container %s: terminationMessagePath %s; want %s (the default)", c.Name, p, corev1.TerminationMessagePathDefault)
	}
}
