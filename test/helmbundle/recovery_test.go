package helmbundle_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	helmtime "helm.sh/helm/v3/pkg/time"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// installOne installs a bundle of one app release and waits until it is
// in sync.
func (f *fixture) installOne(url string, values map[string]any) *v1.HelmBundle {
	f.t.Helper()
	b := f.newBundle(url, rel("web", "app", "0.1.0", values))
	f.create(b)
	f.waitReady(b)
	return b
}

func setValues(values map[string]any) func(*v1.HelmBundle) {
	return func(b *v1.HelmBundle) { b.Spec.Releases[0].Values = jsonValues(values) }
}

// TestFailedUpgradeIsRolledBack: an upgrade the API server refuses (an
// invalid port) is rolled back, reported, and not tried again.
func TestFailedUpgradeIsRolledBack(t *testing.T) {
	f := setup(t)
	b := f.installOne(httpRepo(t), map[string]any{"message": "good"})
	f.update(b, setValues(map[string]any{"message": "bad", "port": 99999}))
	got := f.waitBundle(b, "the upgrade to fail and be rolled back", func(b *v1.HelmBundle) error {
		if s := statusOf(b, "web"); s.State != v1.ReleaseFailed || !strings.Contains(s.Message, "Rolled back") {
			return fmt.Errorf("web: %+v", s)
		}
		return nil
	})
	s := statusOf(got, "web")
	if !strings.Contains(s.LastError, "99999") {
		t.Errorf("lastError = %q, want the API server's refusal of port 99999", s.LastError)
	}
	if ready := readyReason(got); ready != "ReleaseFailed" {
		t.Errorf("bundle Ready reason = %s, want ReleaseFailed", ready)
	}
	hist := f.history("web")
	if want := "deployed failed superseded"; statuses(hist, 3, 2, 1) != want {
		t.Errorf("revisions 3, 2, 1 are %s, want %s", statuses(hist, 3, 2, 1), want)
	}
	f.wantConfig("web-config", "message", "good")
	time.Sleep(3 * time.Second) // more than the bundle's interval
	if n := len(f.history("web")); n != 3 {
		t.Errorf("the failed upgrade was tried again: %d revisions", n)
	}
	f.update(b, setValues(map[string]any{"message": "fixed"}))
	f.waitReady(b)
	f.wantConfig("web-config", "message", "fixed")
}

// TestPendingUpgradeIsUnlocked: a release left in pending-upgrade (an
// upgrade whose process died a minute ago, longer than the release's
// timeout) is unlocked and upgraded.
func TestPendingUpgradeIsUnlocked(t *testing.T) {
	f := setup(t)
	b := f.installOne(httpRepo(t), map[string]any{"message": "one"})
	stuck := *f.last("web")
	stuck.Version = 2
	stuck.Info = &release.Info{Status: release.StatusPendingUpgrade, Description: "Preparing upgrade",
		LastDeployed: helmtime.Time{Time: time.Now().Add(-time.Minute)}}
	if err := f.storage().Create(&stuck); err != nil {
		t.Fatal(err)
	}
	f.update(b, setValues(map[string]any{"message": "two"}))
	f.waitBundle(b, "web to be upgraded", func(b *v1.HelmBundle) error {
		if s := statusOf(b, "web"); s.State != v1.ReleaseInSync || s.Revision != 3 {
			return fmt.Errorf("web: %+v", s)
		}
		return nil
	})
	hist := f.history("web")
	if want := "deployed failed superseded"; statuses(hist, 3, 2, 1) != want {
		t.Errorf("revisions 3, 2, 1 are %s, want %s", statuses(hist, 3, 2, 1), want)
	}
	if d := hist[1].Info.Description; !strings.Contains(d, "unlocked") {
		t.Errorf("revision 2 says %q, want that osk unlocked it", d)
	}
	f.wantConfig("web-config", "message", "two")
}

// TestImmutableFieldReinstalls: a change of a Deployment's selector,
// which Kubernetes refuses to update, reinstalls the release.
func TestImmutableFieldReinstalls(t *testing.T) {
	f := setup(t)
	b := f.installOne(httpRepo(t), map[string]any{"track": "stable"})
	f.update(b, setValues(map[string]any{"track": "canary"}))
	got := f.waitBundle(b, "web to be reinstalled", func(b *v1.HelmBundle) error {
		if s := statusOf(b, "web"); s.State != v1.ReleaseInSync || !strings.Contains(s.Message, "Reinstalled") {
			return fmt.Errorf("web: %+v", s)
		}
		return nil
	})
	if s := statusOf(got, "web"); s.Revision != 1 {
		t.Errorf("web is at revision %d, want 1 (a fresh install)", s.Revision)
	}
	d := &appsv1.Deployment{}
	if err := f.c.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: "web"}, d); err != nil {
		t.Fatal(err)
	}
	if track := d.Spec.Selector.MatchLabels["track"]; track != "canary" {
		t.Errorf("the Deployment selects track %q, want canary", track)
	}
}

// TestDriftIsRepaired: an object deleted by hand and one changed by hand
// are put back.
func TestDriftIsRepaired(t *testing.T) {
	f := setup(t)
	f.installOne(httpRepo(t), map[string]any{"replicas": 2})
	cm := &corev1.ConfigMap{}
	cm.Namespace, cm.Name = f.ns, "web-config"
	if err := f.c.Delete(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{}
	if err := f.c.Get(t.Context(), client.ObjectKey{Namespace: f.ns, Name: "web"}, d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = ptr(int32(5))
	if err := f.c.Update(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, time.Minute, "the hand-made changes to be undone", func(ctx context.Context) error {
		if err := f.c.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "web-config"}, &corev1.ConfigMap{}); err != nil {
			return err
		}
		if err := f.c.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "web"}, d); err != nil {
			return err
		}
		if *d.Spec.Replicas != 2 {
			return fmt.Errorf("replicas %d", *d.Spec.Replicas)
		}
		return nil
	})
}

func ptr[T any](v T) *T { return &v }

// history returns a release's revisions, newest first (hist[0] is the
// latest revision, hist[1] the one before).
func (f *fixture) history(name string) []*release.Release {
	f.t.Helper()
	hist, err := f.storage().History(name)
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]*release.Release, len(hist))
	for _, r := range hist {
		out[len(hist)-r.Version] = r
	}
	return out
}

// statuses names the status of the given revisions.
func statuses(hist []*release.Release, revisions ...int) string {
	var out []string
	for _, v := range revisions {
		for _, r := range hist {
			if r.Version == v {
				out = append(out, string(r.Info.Status))
			}
		}
	}
	return strings.Join(out, " ")
}

func readyReason(b *v1.HelmBundle) string {
	for _, c := range b.Status.Conditions {
		if c.Type == v1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}
