package controllers

import (
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/lifecycle"
)

// tempestService is the catalog service that runs Tempest.
const tempestService = "tempest"

// tempestStatus is status.tempest: the latest finished run, the newer of
// the one in status and the one the tempest Job's pods report. A result
// stays when its pods are gone (a Job re-run because its inputs changed
// keeps the last result until it finishes); it goes when the tempest
// service is disabled.
func tempestStatus(prev *v1.TempestResult, pods []corev1.Pod, enabled bool) *v1.TempestResult {
	if !enabled {
		return nil
	}
	seen := lifecycle.TempestResult(pods)
	if seen == nil || prev != nil && !prev.Finished.Before(&seen.Finished) {
		return prev
	}
	return seen
}
