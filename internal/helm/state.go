// Package helm keeps the Helm releases of a HelmBundle in sync with the
// Helm v3 SDK: it resolves charts from HTTP chart repositories and OCI
// registries, works out each release's state from Helm's own storage, and
// takes the one action that state calls for.
package helm

// State is where a release stands, as read from Helm's storage and the
// cluster.
type State string

const (
	// StateAbsent: Helm has no record of the release.
	StateAbsent State = "Absent"
	// StateLocked: the latest revision is pending (an install, upgrade,
	// rollback or uninstall that never finished).
	StateLocked State = "Locked"
	// StateFailed: the latest revision failed.
	StateFailed State = "Failed"
	// StateOutOfSync: the deployed revision runs another chart version or
	// other values.
	StateOutOfSync State = "OutOfSync"
	// StateDrifted: the deployed revision is the wanted one, but some of
	// its objects were changed or deleted by hand.
	StateDrifted State = "Drifted"
	// StateInSync: nothing to do.
	StateInSync State = "InSync"
)

// Action is the one thing done to a release in a step.
type Action string

const (
	// ActionNone: nothing to do now.
	ActionNone Action = "None"
	// ActionInstall installs the release.
	ActionInstall Action = "Install"
	// ActionUpgrade upgrades the release to the wanted chart and values
	// (which also puts drifted objects back).
	ActionUpgrade Action = "Upgrade"
	// ActionRollback rolls back to the last deployed revision.
	ActionRollback Action = "Rollback"
	// ActionUnlock marks a pending revision failed so Helm accepts
	// another operation.
	ActionUnlock Action = "Unlock"
	// ActionReinstall uninstalls and installs the release again: an
	// immutable field blocked the upgrade.
	ActionReinstall Action = "Reinstall"
	// ActionUninstall removes the release.
	ActionUninstall Action = "Uninstall"
)

// Observation is what a decision needs to know of a release.
type Observation struct {
	// State is the release's state.
	State State
	// GaveUp is true when the wanted chart and values already failed: they
	// are not tried again until they change.
	GaveUp bool
	// Stale is true when a pending revision started longer ago than the
	// release's timeout: whatever ran it is gone.
	Stale bool
	// Immutable is true when the failed revision failed because an
	// immutable field could not be changed.
	Immutable bool
	// HasDeployed is true when an earlier revision was deployed.
	HasDeployed bool
	// Remediate is true when failures are rolled back (or a failed first
	// install removed), false when they stay for inspection.
	Remediate bool
}

// Decide returns the action an observed release calls for. It is pure:
// state is always re-read before and after each action, so a restart at
// any point is safe.
//
//	state       condition                         action
//	Absent      the wanted version gave up        None
//	Absent                                        Install
//	Locked      started within the timeout        None (it may still run)
//	Locked      stale                             Unlock
//	Failed      an immutable field blocked it,
//	            remediate                         Reinstall
//	Failed      not yet tried for these inputs    Upgrade
//	Failed      gave up, remediate, deployed once Rollback
//	Failed      gave up, remediate, never deployed Uninstall
//	Failed      gave up, stay                     None
//	OutOfSync   gave up                           None
//	OutOfSync                                     Upgrade
//	Drifted                                       Upgrade
//	InSync                                        None
func Decide(o Observation) Action {
	switch o.State {
	case StateAbsent:
		return unlessGaveUp(o, ActionInstall)
	case StateLocked:
		if o.Stale {
			return ActionUnlock
		}
		return ActionNone
	case StateFailed:
		return decideFailed(o)
	case StateOutOfSync:
		return unlessGaveUp(o, ActionUpgrade)
	case StateDrifted:
		return ActionUpgrade
	}
	return ActionNone
}

func unlessGaveUp(o Observation, a Action) Action {
	if o.GaveUp {
		return ActionNone
	}
	return a
}

func decideFailed(o Observation) Action {
	switch {
	case o.Immutable && o.Remediate:
		return ActionReinstall
	case !o.GaveUp:
		return ActionUpgrade
	case !o.Remediate:
		return ActionNone
	case o.HasDeployed:
		return ActionRollback
	}
	return ActionUninstall
}
