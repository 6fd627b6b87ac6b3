// Package operator_test proves osk's operator on the sandbox: a real
// control plane, scheduler and controllers with simulated nodes.
package operator_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/operator"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/operatortest"
)

// applyTimeout bounds a wait for APPLIED; the compute example takes about
// 25 s on two cores.
const applyTimeout = 4 * time.Minute

func TestMain(m *testing.M) { sandboxtest.Main(m, sandboxtest.WithStages(failingStages()...)) }

// startOperator runs the operator in this process until the returned
// function stops it (or the test ends).
func startOperator(t testing.TB, env *sandboxtest.Env) (stop func()) {
	t.Helper()
	return operatortest.Start(t, env.Config(), operator.Options{MetricsAddr: "0", ProbeAddr: "0", Workers: 4, Resync: time.Hour})
}

// setup gives a test the osk CRD, a client, a namespace of its own and a
// running operator; stop stops the operator.
func setup(t testing.TB) (c client.Client, ns string, stop func()) {
	t.Helper()
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	return env.Client(), env.Namespace(t), startOperator(t, env)
}

// deploy creates an example's OpenStackDeployment in namespace ns.
func deploy(t testing.TB, c client.Client, example, ns string, mutate ...func(*v1.OpenStackDeployment)) *v1.OpenStackDeployment {
	t.Helper()
	d, err := manifest.Load(filepath.Join("..", "..", "examples", example+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d.Namespace = ns
	for _, m := range mutate {
		m(d)
	}
	// The sandbox runs no Ceph: a stand-in Secret lets the Ceph clients go.
	cephtest.Create(t, c, ns)
	if err := c.Create(t.Context(), d); err != nil {
		t.Fatalf("creating %s: %v", example, err)
	}
	return d
}

// waitState waits until the deployment reports state for its current
// generation, and returns it.
func waitState(t testing.TB, c client.Client, d *v1.OpenStackDeployment, state v1.DeploymentState, timeout time.Duration) *v1.OpenStackDeployment {
	t.Helper()
	got := &v1.OpenStackDeployment{}
	sandboxtest.Eventually(t, timeout, fmt.Sprintf("%s to be %s", d.Name, state), func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
			return err
		}
		if got.Status.ObservedGeneration != got.Generation || got.Status.State != state {
			ready := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
			return fmt.Errorf("generation %d observed %d, state %s, progress %s, ready condition %+v",
				got.Generation, got.Status.ObservedGeneration, got.Status.State, got.Status.Progress, ready)
		}
		return nil
	})
	return got
}

// update re-reads the deployment, changes it and writes it back.
func update(t *testing.T, c client.Client, d *v1.OpenStackDeployment, change func(*v1.OpenStackDeployment)) {
	t.Helper()
	sandboxtest.Eventually(t, 30*time.Second, "updating "+d.Name, func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return err
		}
		change(d)
		return c.Update(ctx, d)
	})
}

func listJobs(t *testing.T, c client.Client, ns string) []batchv1.Job {
	t.Helper()
	l := &batchv1.JobList{}
	if err := c.List(t.Context(), l, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func deployments(t *testing.T, c client.Client, ns string) map[string]appsv1.Deployment {
	t.Helper()
	l := &appsv1.DeploymentList{}
	if err := c.List(t.Context(), l, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]appsv1.Deployment{}
	for _, d := range l.Items {
		out[d.Name] = d
	}
	return out
}
