package controllers

import (
	"errors"
	"testing"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

func TestHelmBundleReadiness(t *testing.T) {
	inSync := v1.HelmReleaseStatus{Name: "a", State: v1.ReleaseInSync}
	failed := v1.HelmReleaseStatus{Name: "b", State: v1.ReleaseFailed, Message: "Rolled back to revision 1 after a failure"}
	waiting := v1.HelmReleaseStatus{Name: "c", State: v1.ReleaseWaiting, Message: "Waiting for release b to be in sync"}
	for _, tc := range []struct {
		name        string
		releases    []v1.HelmReleaseStatus
		scope       bundleScope
		passErr     error
		reason, msg string
	}{
		{"all in sync", []v1.HelmReleaseStatus{inSync}, bundleScope{}, nil, reasonInSync, "1 releases in sync"},
		{"invalid spec", nil, bundleScope{invalid: errors.New("dependency cycle between releases x, y")}, nil,
			reasonInvalid, "dependency cycle between releases x, y"},
		{"unresolved chart", nil, bundleScope{invalid: errors.New("no chart"), unresolved: true}, nil, reasonUnresolved, "no chart"},
		{"a failure wins over waiting", []v1.HelmReleaseStatus{inSync, failed, waiting}, bundleScope{}, nil,
			reasonFailed, "release b failed: Rolled back to revision 1 after a failure"},
		{"waiting", []v1.HelmReleaseStatus{inSync, waiting}, bundleScope{}, nil, reasonProgressing, "release c: Waiting for release b to be in sync"},
		{"pass error", []v1.HelmReleaseStatus{inSync}, bundleScope{}, errors.New("syncing releases: boom"), reasonProgressing, "syncing releases: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason, msg := readiness(tc.releases, &tc.scope, tc.passErr)
			if reason != tc.reason || msg != tc.msg {
				t.Errorf("readiness = %s %q, want %s %q", reason, msg, tc.reason, tc.msg)
			}
		})
	}
}
