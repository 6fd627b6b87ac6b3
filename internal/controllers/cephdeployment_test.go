package controllers

import (
	"errors"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestCephConditions checks the conditions each situation of a pass
// sets.
func TestCephConditions(t *testing.T) {
	tests := []struct {
		name    string
		status  v1.CephDeploymentStatus
		facts   cephFacts
		cond    string
		want    metav1.ConditionStatus
		reason  string
		message string
	}{
		{"invalid", v1.CephDeploymentStatus{}, cephFacts{invalid: errors.New("spec.nodes: 2 nodes with the mon role")},
			v1.ConditionReady, metav1.ConditionFalse, reasonInvalid, "2 nodes with the mon role"},
		{"no Rook", v1.CephDeploymentStatus{}, cephFacts{rookMissing: true},
			ConditionKeysPublished, metav1.ConditionFalse, reasonRookMissing, "install Rook"},
		{"waiting", v1.CephDeploymentStatus{}, cephFacts{missing: []string{"CephCluster ceph is not Ready", "ConfigMap x does not exist"}},
			v1.ConditionReady, metav1.ConditionFalse, reasonWaitingOnRook, "CephCluster ceph is not Ready; ConfigMap x does not exist"},
		{"published", v1.CephDeploymentStatus{KeysSecret: "openstack/openstack-ceph-keys", Health: v1.CephHealthWarn}, cephFacts{},
			v1.ConditionReady, metav1.ConditionTrue, reasonPublished, "openstack/openstack-ceph-keys"},
		{"health error", v1.CephDeploymentStatus{KeysSecret: "o/k", Health: v1.CephHealthErr,
			HealthChecks: []v1.CephHealthCheck{{Name: "PG_DAMAGED", Severity: v1.CephHealthErr, Message: "1 pg inconsistent"}}}, cephFacts{},
			v1.ConditionReady, metav1.ConditionFalse, reasonHealthErr, "PG_DAMAGED: 1 pg inconsistent"},
		{"deletion held", v1.CephDeploymentStatus{}, cephFacts{deleting: true, blocked: []string{"images", "volumes"}},
			ConditionDeletionAllowed, metav1.ConditionFalse, reasonPoolsHoldData, "pools images, volumes hold data"},
		{"prune held", v1.CephDeploymentStatus{KeysSecret: "o/k"}, cephFacts{blocked: []string{"archive"}},
			v1.ConditionReady, metav1.ConditionFalse, reasonPoolsHoldData, "see DeletionAllowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.status
			setCephConditions(&st, 3, tc.facts)
			c := apimeta.FindStatusCondition(st.Conditions, tc.cond)
			if c == nil || c.Status != tc.want || c.Reason != tc.reason || !strings.Contains(c.Message, tc.message) || c.ObservedGeneration != 3 {
				t.Errorf("%s = %+v, want %s %s %q", tc.cond, c, tc.want, tc.reason, tc.message)
			}
		})
	}
}
