package helm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Notify is told of every Helm action taken and its outcome (err nil on
// success), to record events.
type Notify func(release string, a Action, message string, err error)

// Sync runs the state-then-action loop of one release: observe, decide,
// act, and again, until the release needs nothing or an action would run
// a second time in this attempt. The returned status starts from prev.
func (m *Releases) Sync(ctx context.Context, d Desired, prev v1.HelmReleaseStatus, notify Notify) (v1.HelmReleaseStatus, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("release", d.Name, "namespace", d.Namespace)
	st := prev
	st.Name, st.Namespace = d.Name, d.Namespace
	done := map[Action]bool{}
	for {
		o, err := m.Observe(ctx, d, st.FailedDigest == d.Digest)
		if err = d.redact(err); err != nil {
			return report(st, o, err.Error()), err
		}
		a := Decide(o.Observation)
		if a == ActionNone || done[a] {
			return report(st, o, st.Message), nil
		}
		done[a] = true
		log.Info("Running Helm action", "action", a, "state", o.State)
		if err := d.redact(m.Act(ctx, a, d, o)); err != nil {
			log.Info("Helm action failed", "action", a, "error", err.Error())
			notify(d.Name, a, "", err)
			st.LastError = err.Error()
			if !attempt(a) {
				return report(st, o, err.Error()), err
			}
			st.FailedDigest = d.Digest
			continue
		}
		st.Message = describe(a, o)
		notify(d.Name, a, st.Message, nil)
	}
}

// attempt is true of the actions that try the wanted chart and values:
// when they fail, those inputs are given up until they change.
func attempt(a Action) bool {
	return a == ActionInstall || a == ActionUpgrade || a == ActionReinstall
}

func describe(a Action, o Observed) string {
	switch a {
	case ActionRollback:
		return fmt.Sprintf("Rolled back to revision %d after a failure", o.Rollback)
	case ActionUnlock:
		return fmt.Sprintf("Unlocked revision %d, stuck in %s", o.Last.Version, o.Last.Info.Status)
	case ActionReinstall:
		return "Reinstalled: an immutable field blocked the upgrade"
	case ActionUninstall:
		return "Uninstalled after a failed first install"
	case ActionUpgrade:
		if o.State == StateDrifted {
			return "Upgraded to put back objects changed by hand"
		}
	}
	return string(a) + " succeeded"
}

// report fills the status of a release from its last observation.
func report(st v1.HelmReleaseStatus, o Observed, msg string) v1.HelmReleaseStatus {
	st.Message = msg
	if o.Last != nil && o.State != StateAbsent {
		st.Chart, st.ChartVersion, st.Revision = o.Last.Chart.Metadata.Name, o.Last.Chart.Metadata.Version, o.Last.Version
	} else {
		st.Chart, st.ChartVersion, st.Revision = "", "", 0
	}
	switch {
	case o.State == StateInSync:
		st.State, st.LastError, st.FailedDigest = v1.ReleaseInSync, "", ""
	case o.GaveUp:
		st.State = v1.ReleaseFailed
	default:
		st.State = v1.ReleaseProgressing
	}
	setReleaseReady(&st)
	return st
}

func setReleaseReady(st *v1.HelmReleaseStatus) {
	c := metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: string(st.State), Message: st.Message}
	if st.State == v1.ReleaseInSync {
		c.Status = metav1.ConditionTrue
	}
	apimeta.SetStatusCondition(&st.Conditions, c)
}

// SyncBundle syncs the plan's releases wave by wave, the releases of a
// wave in parallel; a release whose dependencies are not in sync waits.
// It returns the releases' status in install order.
func (m *Releases) SyncBundle(ctx context.Context, p *Plan, want map[string]Desired, prev []v1.HelmReleaseStatus, notify Notify) ([]v1.HelmReleaseStatus, error) {
	byName := map[string]v1.HelmReleaseStatus{}
	for _, s := range prev {
		byName[s.Name] = s
	}
	var out []v1.HelmReleaseStatus
	var errs []error
	for _, wave := range p.Waves {
		sts, err := m.syncWave(ctx, p, want, wave, byName, notify)
		errs = append(errs, err)
		for _, s := range sts {
			byName[s.Name] = s
		}
		out = append(out, sts...)
	}
	return out, errors.Join(errs...)
}

func (m *Releases) syncWave(ctx context.Context, p *Plan, want map[string]Desired, wave []string, byName map[string]v1.HelmReleaseStatus, notify Notify) ([]v1.HelmReleaseStatus, error) {
	out := make([]v1.HelmReleaseStatus, len(wave))
	errs := make([]error, len(wave))
	var wg sync.WaitGroup
	for i, name := range wave {
		prev := byName[name]
		if blocker := notReady(p.Releases[name].DependsOn, byName); blocker != "" {
			out[i] = waiting(prev, want[name], blocker)
			continue
		}
		wg.Go(func() { out[i], errs[i] = m.Sync(ctx, want[name], prev, notify) })
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func notReady(deps []string, byName map[string]v1.HelmReleaseStatus) string {
	for _, d := range slices.Sorted(slices.Values(deps)) {
		if byName[d].State != v1.ReleaseInSync {
			return d
		}
	}
	return ""
}

func waiting(st v1.HelmReleaseStatus, d Desired, blocker string) v1.HelmReleaseStatus {
	st.Name, st.Namespace = d.Name, d.Namespace
	st.State, st.Message = v1.ReleaseWaiting, fmt.Sprintf("Waiting for release %s to be in sync", blocker)
	setReleaseReady(&st)
	return st
}
