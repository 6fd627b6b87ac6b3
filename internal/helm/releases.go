package helm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/rest"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// maxHistory is how many revisions of a release Helm keeps.
const maxHistory = 10

// Releases runs Helm operations with Helm's own clients and storage
// (Secrets in each release's namespace).
type Releases struct {
	clients *clients
}

// NewReleases returns a runner of Helm operations against the cluster of
// config.
func NewReleases(config *rest.Config) (*Releases, error) {
	c, err := newClients(config)
	if err != nil {
		return nil, fmt.Errorf("creating Helm's clients: %w", err)
	}
	return &Releases{clients: c}, nil
}

// configuration returns Helm's action configuration for a namespace,
// acting as user (osk itself when empty).
func (m *Releases) configuration(ctx context.Context, ns, user string) (*action.Configuration, error) {
	log := logr.FromContextOrDiscard(ctx).V(1)
	cfg := &action.Configuration{}
	err := cfg.Init(getter{clients: m.clients.as(user), namespace: ns}, ns, "secret", func(f string, a ...any) {
		log.Info("Helm", "message", fmt.Sprintf(f, a...))
	})
	if err != nil {
		return nil, fmt.Errorf("initialising Helm for namespace %s: %w", ns, err)
	}
	return cfg, nil
}

// Observed is what Helm's storage and the cluster say of a release.
type Observed struct {
	Observation
	// Last is the latest revision, nil when the release is absent.
	Last *release.Release
	// Rollback is the revision a rollback returns to.
	Rollback int
}

// Observe reads the release's history and, when it is deployed as
// wanted, checks its objects for drift. gaveUp says the wanted inputs
// already failed.
func (m *Releases) Observe(ctx context.Context, d Desired, gaveUp bool) (Observed, error) {
	cfg, err := m.configuration(ctx, d.Namespace, d.User)
	if err != nil {
		return Observed{}, err
	}
	hist, err := cfg.Releases.History(d.Name)
	if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return Observed{}, fmt.Errorf("reading the history of release %s: %w", d.Name, err)
	}
	o := Observed{Observation: Observation{GaveUp: gaveUp, Remediate: d.Remediate}}
	o.Last, o.Rollback = latest(hist)
	o.HasDeployed = o.Rollback > 0
	o.State, err = m.state(cfg, d, o.Last)
	switch o.State {
	case StateFailed:
		o.Immutable = strings.Contains(o.Last.Info.Description, "field is immutable")
	case StateLocked:
		o.Stale = time.Since(o.Last.Info.LastDeployed.Time) > d.Timeout
	}
	return o, err
}

// latest returns the latest revision and the latest deployed (or
// superseded) one before it.
func latest(hist []*release.Release) (last *release.Release, rollback int) {
	for _, r := range hist {
		if last == nil || r.Version > last.Version {
			last = r
		}
	}
	for _, r := range hist {
		good := r.Info.Status == release.StatusDeployed || r.Info.Status == release.StatusSuperseded
		if good && r.Version < last.Version && r.Version > rollback {
			rollback = r.Version
		}
	}
	return last, rollback
}

func (m *Releases) state(cfg *action.Configuration, d Desired, last *release.Release) (State, error) {
	switch {
	case last == nil || last.Info.Status == release.StatusUninstalled:
		return StateAbsent, nil
	case last.Info.Status.IsPending() || last.Info.Status == release.StatusUninstalling:
		return StateLocked, nil
	case last.Info.Status != release.StatusDeployed:
		return StateFailed, nil
	case !Matches(d, last):
		return StateOutOfSync, nil
	}
	drifted, err := Drifted(cfg, last)
	if err != nil || !drifted {
		return StateInSync, err
	}
	return StateDrifted, nil
}

// Matches reports whether a revision runs the wanted chart version and
// values.
func Matches(d Desired, r *release.Release) bool {
	md := r.Chart.Metadata
	return md.Name == d.Chart.Metadata.Name && md.Version == d.Chart.Metadata.Version &&
		sameValues(r.Config, d.Values)
}

func sameValues(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// Act runs one action on a release.
func (m *Releases) Act(ctx context.Context, a Action, d Desired, o Observed) error {
	cfg, err := m.configuration(ctx, d.Namespace, d.User)
	if err != nil {
		return err
	}
	switch a {
	case ActionInstall:
		return m.install(ctx, cfg, d)
	case ActionUpgrade:
		return m.upgrade(ctx, cfg, d)
	case ActionRollback:
		return m.rollback(cfg, d, o.Rollback)
	case ActionUnlock:
		return unlock(cfg, o.Last)
	case ActionReinstall:
		if err := Uninstall(cfg, d.Name, d.Timeout); err != nil {
			return err
		}
		return m.install(ctx, cfg, d)
	case ActionUninstall:
		return Uninstall(cfg, d.Name, d.Timeout)
	}
	return nil
}

func (m *Releases) install(ctx context.Context, cfg *action.Configuration, d Desired) error {
	m.clients.mapper.Reset()
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.CreateNamespace = d.Name, d.Namespace, d.OwnNamespace
	in.Wait, in.WaitForJobs, in.Timeout = d.Wait, d.Wait, d.Timeout
	if _, err := in.RunWithContext(ctx, d.Chart, d.Values); err != nil {
		return fmt.Errorf("installing release %s: %w", d.Name, err)
	}
	return nil
}

func (m *Releases) upgrade(ctx context.Context, cfg *action.Configuration, d Desired) error {
	m.clients.mapper.Reset()
	up := action.NewUpgrade(cfg)
	up.Namespace, up.MaxHistory = d.Namespace, maxHistory
	up.Wait, up.WaitForJobs, up.Timeout = d.Wait, d.Wait, d.Timeout
	if _, err := up.RunWithContext(ctx, d.Name, d.Chart, d.Values); err != nil {
		return fmt.Errorf("upgrading release %s: %w", d.Name, err)
	}
	return nil
}

func (m *Releases) rollback(cfg *action.Configuration, d Desired, revision int) error {
	rb := action.NewRollback(cfg)
	rb.Version, rb.MaxHistory = revision, maxHistory
	rb.Wait, rb.WaitForJobs, rb.Timeout = d.Wait, d.Wait, d.Timeout
	if err := rb.Run(d.Name); err != nil {
		return fmt.Errorf("rolling release %s back to revision %d: %w", d.Name, revision, err)
	}
	return nil
}

// unlock marks a revision stuck in a pending state failed, so that Helm
// accepts the next operation.
func unlock(cfg *action.Configuration, r *release.Release) error {
	r.SetStatus(release.StatusFailed, fmt.Sprintf("osk: unlocked revision %d, stuck in %s", r.Version, r.Info.Status))
	if err := cfg.Releases.Update(r); err != nil {
		return fmt.Errorf("unlocking release %s: %w", r.Name, err)
	}
	return nil
}

// UninstallRelease removes a release of a bundle, if Helm knows it,
// acting as user (osk itself when empty).
func (m *Releases) UninstallRelease(ctx context.Context, s v1.HelmReleaseStatus, user string) error {
	cfg, err := m.configuration(ctx, s.Namespace, user)
	if err != nil {
		return err
	}
	return Uninstall(cfg, s.Name, defaultTimeout)
}

// Uninstall removes a release and its history; a release Helm does not
// know is already uninstalled.
func Uninstall(cfg *action.Configuration, name string, timeout time.Duration) error {
	un := action.NewUninstall(cfg)
	un.Timeout, un.IgnoreNotFound = timeout, true
	if _, err := un.Run(name); err != nil {
		return fmt.Errorf("uninstalling release %s: %w", name, err)
	}
	return nil
}

// Storage returns Helm's release storage of a namespace, with osk's own
// identity, to inspect releases.
func (m *Releases) Storage(ctx context.Context, ns string) (*storage.Storage, error) {
	cfg, err := m.configuration(ctx, ns, "")
	if err != nil {
		return nil, err
	}
	return cfg.Releases, nil
}
