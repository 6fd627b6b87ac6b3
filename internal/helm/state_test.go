package helm

import "testing"

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Observation
		want Action
	}{
		{"absent installs", Observation{State: StateAbsent}, ActionInstall},
		{"absent after a failed install gives up", Observation{State: StateAbsent, GaveUp: true}, ActionNone},
		{"locked within its timeout waits", Observation{State: StateLocked}, ActionNone},
		{"stale lock unlocks", Observation{State: StateLocked, Stale: true}, ActionUnlock},
		{"stale lock unlocks even when given up", Observation{State: StateLocked, Stale: true, GaveUp: true}, ActionUnlock},
		{"immutable reinstalls", Observation{State: StateFailed, Immutable: true, GaveUp: true, Remediate: true, HasDeployed: true}, ActionReinstall},
		{"immutable and stay does nothing", Observation{State: StateFailed, Immutable: true, GaveUp: true, HasDeployed: true}, ActionNone},
		{"failed by another hand upgrades", Observation{State: StateFailed, HasDeployed: true, Remediate: true}, ActionUpgrade},
		{"failed and given up rolls back", Observation{State: StateFailed, GaveUp: true, Remediate: true, HasDeployed: true}, ActionRollback},
		{"failed first install is uninstalled", Observation{State: StateFailed, GaveUp: true, Remediate: true}, ActionUninstall},
		{"failed and stay does nothing", Observation{State: StateFailed, GaveUp: true, HasDeployed: true}, ActionNone},
		{"out of sync upgrades", Observation{State: StateOutOfSync}, ActionUpgrade},
		{"out of sync after a rollback waits for a new spec", Observation{State: StateOutOfSync, GaveUp: true}, ActionNone},
		{"drifted upgrades", Observation{State: StateDrifted}, ActionUpgrade},
		{"in sync does nothing", Observation{State: StateInSync}, ActionNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.o); got != tc.want {
				t.Errorf("Decide(%+v) = %s, want %s", tc.o, got, tc.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	live := map[string]any{
		"metadata": map[string]any{"name": "a", "uid": "x"},
		"spec":     map[string]any{"replicas": int64(2), "ports": []any{map[string]any{"port": int64(80), "protocol": "TCP"}}},
	}
	for _, tc := range []struct {
		name string
		want map[string]any
		ok   bool
	}{
		{"subset", map[string]any{"spec": map[string]any{"replicas": float64(2)}}, true},
		{"list elements are subsets", map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": 80}}}}, true},
		{"changed scalar", map[string]any{"spec": map[string]any{"replicas": 3}}, false},
		{"missing key", map[string]any{"spec": map[string]any{"paused": true}}, false},
		{"list length", map[string]any{"spec": map[string]any{"ports": []any{}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Contains(live, tc.want); got != tc.ok {
				t.Errorf("Contains = %v, want %v", got, tc.ok)
			}
		})
	}
}
