// Package install_test proves osk's installation on the sandbox: the
// kustomize install of config/default applied for real, the operator
// running with no more than the permissions that install grants, and the
// operator as a process of its own, measured from the outside.
package install_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/poll"
	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// applyTimeout bounds a wait for APPLIED; test/operator sees the compute
// example there in about 25 s on two cores.
const applyTimeout = 4 * time.Minute

func TestMain(m *testing.M) {
	// The operators this package runs in its own process log their errors
	// (a refused request, a failed pass) to standard error.
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	sandboxtest.Main(m)
}

// repoRoot returns the root of the osk repository.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := sandbox.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// loadExample reads examples/<name>.yaml and moves it to namespace ns.
func loadExample(t testing.TB, name, ns string) *v1.OpenStackDeployment {
	t.Helper()
	d, err := manifest.Load(filepath.Join(repoRoot(t), "examples", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d.Namespace = ns
	return d
}

// waitApplied waits until the deployment reports APPLIED for its current
// generation, failing t when applyTimeout passes or ctx ends first.
func waitApplied(t testing.TB, ctx context.Context, c client.Client, d *v1.OpenStackDeployment) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, applyTimeout)
	defer cancel()
	got := &v1.OpenStackDeployment{}
	err := poll.Until(ctx, 100*time.Millisecond, d.Name+" to be APPLIED", func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		if got.Status.ObservedGeneration != got.Generation || got.Status.State != v1.StateApplied {
			ready := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
			return fmt.Errorf("generation %d observed %d, state %q, progress %s, ready condition %+v",
				got.Generation, got.Status.ObservedGeneration, got.Status.State, got.Status.Progress, ready)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
