package lifecycle

import (
	"encoding/json"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TempestJob is the name of osk's Tempest Job, the tempest service's
// "run" job. When Tempest has run, whatever its verdict, the Job's main
// container exits 0 with a JSON v1.TempestResult as its termination
// message (/dev/termination-log).
const TempestJob = "tempest-run"

// TempestResult returns the newest result, by Finished, that a succeeded
// pod of the tempest Job reports among pods, or nil when none reports
// one. Only a main container that exited 0 counts, so a log tail that
// stands in for the message of a failed container is never read; a
// message that is empty, not JSON, or not a complete result is ignored.
func TempestResult(pods []corev1.Pod) *v1.TempestResult {
	var newest *v1.TempestResult
	var from string
	for i := range pods {
		r := reported(&pods[i])
		if r != nil && (newest == nil || later(r, pods[i].Name, newest, from)) {
			newest, from = r, pods[i].Name
		}
	}
	return newest
}

// later reports whether result a, from pod an, is newer than b, from pod
// bn; equal times go to the pod that sorts last, so the choice does not
// depend on the order pods are listed in.
func later(a *v1.TempestResult, an string, b *v1.TempestResult, bn string) bool {
	if !a.Finished.Equal(&b.Finished) {
		return b.Finished.Before(&a.Finished)
	}
	return an > bn
}

// reported is the result a pod of the tempest Job reports, if it
// succeeded and reports a valid one.
func reported(p *corev1.Pod) *v1.TempestResult {
	if p.Labels[batchv1.JobNameLabel] != TempestJob || p.Status.Phase != corev1.PodSucceeded || len(p.Spec.Containers) == 0 {
		return nil
	}
	main := p.Spec.Containers[0].Name
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; cs.Name == main && t != nil && t.ExitCode == 0 {
			return decodeTempest(t.Message)
		}
	}
	return nil
}

// decodeTempest decodes a termination message into a result the status
// accepts: a known verdict and a finishing time (at the second, as the
// status stores it, so that an unchanged result is never written again),
// with at most v1.TempestMaxFailedTests failed tests. Anything else is nil.
func decodeTempest(msg string) *v1.TempestResult {
	r := &v1.TempestResult{}
	if json.Unmarshal([]byte(msg), r) != nil || r.Finished.IsZero() ||
		(r.Result != v1.TempestPassed && r.Result != v1.TempestFailed) {
		return nil
	}
	r.Finished = r.Finished.Rfc3339Copy()
	if len(r.FailedTests) > v1.TempestMaxFailedTests {
		r.FailedTests = r.FailedTests[:v1.TempestMaxFailedTests]
	}
	return r
}
