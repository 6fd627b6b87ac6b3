package lifecycle

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestDaemonSetReadiness checks that a DaemonSet is ready once every node
// runs its current template with no more pods unavailable than its
// rolling update allows: a joining node does not make it unready, an
// unfinished rollout does.
func TestDaemonSetReadiness(t *testing.T) {
	tenPercent := intstr.FromString("10%")
	ds := func(desired, updated, available int32, maxUnavailable *intstr.IntOrString) *appsv1.DaemonSet {
		d := &appsv1.DaemonSet{}
		d.Generation = 2
		d.Status = appsv1.DaemonSetStatus{ObservedGeneration: 2, DesiredNumberScheduled: desired,
			UpdatedNumberScheduled: updated, NumberAvailable: available}
		if maxUnavailable != nil {
			d.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: maxUnavailable}}
		}
		return d
	}
	for _, c := range []struct {
		what  string
		ds    *appsv1.DaemonSet
		ready bool
	}{
		{"all nodes updated and available", ds(1000, 1000, 1000, nil), true},
		{"a node joined, its pod starting", ds(1001, 1001, 1000, nil), true},
		{"two pods starting, one allowed", ds(1001, 1001, 999, nil), false},
		{"a node not yet updated", ds(1000, 999, 1000, nil), false},
		{"10% of 1000 may be unavailable", ds(1000, 1000, 900, &tenPercent), true},
		{"more than 10% unavailable", ds(1000, 1000, 899, &tenPercent), false},
	} {
		if got := daemonSet(c.ds).Ready; got != c.ready {
			t.Errorf("%s: ready %v, want %v", c.what, got, c.ready)
		}
	}
	stale := ds(3, 3, 3, nil)
	stale.Status.ObservedGeneration = 1
	if daemonSet(stale).Ready {
		t.Error("a DaemonSet whose new generation is not yet observed is ready")
	}
}
