package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestProgressOnly: counts and messages are progress; a state, a
// generation, a release, an upgrade step, a condition's or a service's
// verdict is not.
func TestProgressOnly(t *testing.T) {
	base := func() *v1.OpenStackDeploymentStatus {
		return &v1.OpenStackDeploymentStatus{
			ObservedGeneration: 2, State: v1.StateApplying, Progress: "10/22", Health: "30/40", DeployedVersion: "caracal",
			Upgrade: &v1.UpgradeStatus{From: "caracal", To: "epoxy", Service: "identity", Step: "expand"},
			Services: map[string]v1.ServiceStatus{
				"identity": {State: v1.ServiceApplying, Ready: 1, Total: 3, Message: "Job keystone-upgrade-expand running"},
			},
			Conditions: []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Applying", Message: "10 of 22"}},
		}
	}
	for _, tc := range []struct {
		name     string
		change   func(*v1.OpenStackDeploymentStatus)
		progress bool
	}{
		{"counts and messages", func(s *v1.OpenStackDeploymentStatus) {
			s.Progress, s.Health = "11/22", "31/40"
			s.Services["identity"] = v1.ServiceStatus{State: v1.ServiceApplying, Ready: 2, Total: 3, Message: "Deployment/keystone-api: being updated"}
			s.Conditions[0].Message = "11 of 22"
			s.Upgrade.Since = metav1.NewTime(time.Unix(10, 0))
		}, true},
		{"the state", func(s *v1.OpenStackDeploymentStatus) { s.State = v1.StateApplied }, false},
		{"the generation", func(s *v1.OpenStackDeploymentStatus) { s.ObservedGeneration = 3 }, false},
		{"the release", func(s *v1.OpenStackDeploymentStatus) { s.DeployedVersion = "epoxy" }, false},
		{"the upgrade step", func(s *v1.OpenStackDeploymentStatus) { s.Upgrade.Step = "migrate" }, false},
		{"the upgrade's end", func(s *v1.OpenStackDeploymentStatus) { s.Upgrade = nil }, false},
		{"a condition's reason", func(s *v1.OpenStackDeploymentStatus) { s.Conditions[0].Reason = "StepFailed" }, false},
		{"a condition more", func(s *v1.OpenStackDeploymentStatus) {
			s.Conditions = append(s.Conditions, metav1.Condition{Type: v1.ConditionUpgrading, Status: metav1.ConditionTrue})
		}, false},
		{"a service's verdict", func(s *v1.OpenStackDeploymentStatus) {
			s.Services["identity"] = v1.ServiceStatus{State: v1.ServiceReady, Ready: 3, Total: 3}
		}, false},
		{"a service more", func(s *v1.OpenStackDeploymentStatus) {
			s.Services["image"] = v1.ServiceStatus{State: v1.ServiceApplying}
		}, false},
	} {
		after := base()
		tc.change(after)
		if got := progressOnly(base(), after); got != tc.progress {
			t.Errorf("%s: progress only %v, want %v", tc.name, got, tc.progress)
		}
	}
}

// TestStatusPace: a progress-only write waits statusInterval after the
// last write of the same deployment, and no other.
func TestStatusPace(t *testing.T) {
	var s statusPace
	now := time.Unix(100, 0)
	if w := s.wait("a", now); w != 0 {
		t.Errorf("the first write waits %v", w)
	}
	s.wrote("a", now)
	if w := s.wait("a", now.Add(300*time.Millisecond)); w != statusInterval-300*time.Millisecond {
		t.Errorf("a write 300ms after the last waits %v", w)
	}
	if w := s.wait("b", now); w != 0 {
		t.Errorf("another deployment's write waits %v", w)
	}
	if w := s.wait("a", now.Add(statusInterval)); w != 0 {
		t.Errorf("a write an interval after the last waits %v", w)
	}
	s.forget("a")
	if w := s.wait("a", now); w != 0 {
		t.Errorf("a forgotten deployment's write waits %v", w)
	}
}
