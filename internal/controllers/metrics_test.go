package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestPublishState: the series StackLight's osk alerts read follow the
// deployment's state and upgrade step, and go with the deployment.
func TestPublishState(t *testing.T) {
	d := &v1.OpenStackDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "m"}}
	d.Status.State = v1.StateFailed
	d.Status.Upgrade = &v1.UpgradeStatus{Service: "compute", Step: "db-sync", Since: metav1.NewTime(time.Unix(1000, 0))}
	publishState(d)
	want := `
# HELP osk_deployment_state 1 for the state a deployment is in (APPLYING, APPLIED, FAILED), 0 for the others.
# TYPE osk_deployment_state gauge
osk_deployment_state{deployment="m",namespace="ns",state="APPLIED"} 0
osk_deployment_state{deployment="m",namespace="ns",state="APPLYING"} 0
osk_deployment_state{deployment="m",namespace="ns",state="FAILED"} 1
`
	if err := testutil.CollectAndCompare(deploymentState, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	want = `
# HELP osk_deployment_upgrade_step_started_timestamp_seconds When the upgrade of a deployment entered its current service and step; absent when it does not upgrade.
# TYPE osk_deployment_upgrade_step_started_timestamp_seconds gauge
osk_deployment_upgrade_step_started_timestamp_seconds{deployment="m",namespace="ns",service="compute",step="db-sync"} 1000
`
	if err := testutil.CollectAndCompare(upgradeStepStarted, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	d.Status.State, d.Status.Upgrade = v1.StateApplied, nil
	publishState(d)
	if n := testutil.CollectAndCount(upgradeStepStarted); n != 0 {
		t.Errorf("%d upgrade series after the upgrade", n)
	}
	forget(d)
	if n := testutil.CollectAndCount(deploymentState); n != 0 {
		t.Errorf("%d state series after the deployment went", n)
	}
}
