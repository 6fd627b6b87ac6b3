package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/lifecycle"
)

func TestUpgradingFrom(t *testing.T) {
	running := &v1.UpgradeStatus{From: "caracal", To: "epoxy", Service: "compute", Step: "roll"}
	for _, tc := range []struct {
		name, deployed, spec string
		upgrade              *v1.UpgradeStatus
		from, refused        string
	}{
		{name: "never applied", deployed: "", spec: "epoxy"},
		{name: "no change", deployed: "caracal", spec: "caracal"},
		{name: "next release", deployed: "caracal", spec: "dalmatian", from: "caracal"},
		{name: "SLURP to SLURP", deployed: "caracal", spec: "epoxy", from: "caracal"},
		{name: "running", deployed: "caracal", spec: "epoxy", upgrade: running, from: "caracal"},
		{name: "downgrade", deployed: "epoxy", spec: "caracal", refused: "no downgrade"},
		{name: "skip", deployed: "bobcat", spec: "epoxy", refused: "skips caracal, dalmatian"},
		{name: "another target mid-upgrade", deployed: "caracal", spec: "dalmatian", upgrade: running, refused: "one upgrade at a time"},
		{name: "back mid-upgrade", deployed: "caracal", spec: "caracal", upgrade: running, refused: "set epoxy again"},
		{name: "unknown running release", deployed: "kilo", spec: "epoxy", refused: "status.deployedVersion"},
	} {
		d := &v1.OpenStackDeployment{Spec: v1.OpenStackDeploymentSpec{OpenStackVersion: tc.spec},
			Status: v1.OpenStackDeploymentStatus{DeployedVersion: tc.deployed, Upgrade: tc.upgrade}}
		from, errs := upgradingFrom(d)
		if tc.refused != "" {
			if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.refused) {
				t.Errorf("%s: refused with %v; want a refusal naming %q", tc.name, errs, tc.refused)
			}
			continue
		}
		if len(errs) > 0 || from != tc.from {
			t.Errorf("%s: from %q, %v; want from %q", tc.name, from, errs, tc.from)
		}
	}
}

func TestUpgradeProgressKeepsSince(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	u := &lifecycle.Upgrade{Service: "image", Step: "expand", Completed: []string{"identity", "placement"}}
	first := upgradeProgress(nil, u, "caracal", "epoxy", t0)
	if same := upgradeProgress(first, u, "caracal", "epoxy", t1); !same.Since.Equal(&t0) {
		t.Errorf("since %v on the same step; want %v", same.Since, t0)
	}
	u.Step = "migrate"
	if next := upgradeProgress(first, u, "caracal", "epoxy", t1); !next.Since.Equal(&t1) || next.Step != "migrate" {
		t.Errorf("next step: %+v; want since %v", next, t1)
	}
	reason, msg := upgradeCondition(first, v1.ServiceStatus{Message: "Job glance-upgrade-expand failed (BackoffLimitExceeded: ...)"}, true)
	if reason != "UpgradeFailed" || !strings.Contains(msg, "glance-upgrade-expand") || !strings.Contains(msg, "later services keep caracal") {
		t.Errorf("failed condition %s: %s", reason, msg)
	}
}
