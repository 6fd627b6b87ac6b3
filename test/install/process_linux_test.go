//go:build linux

package install_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/operatortest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

const (
	// steadyPeriod is how long the operator is left alone once APPLIED.
	steadyPeriod = 30 * time.Second
)

// BenchmarkOperatorProcess runs `osk operator`, built from this
// repository, as a process of its own against the sandbox, as an operator
// runs in its pod, and measures it from the outside: it deploys
// examples/compute.yaml into a fresh namespace, waits until APPLIED, leaves
// the operator alone for 30 s, then deletes the deployment and stops the
// operator with SIGTERM, which it must survive by exiting 0 within 10 s.
//
// Reported, per iteration: s-to-APPLIED (from creating the deployment);
// cpu-s-to-APPLIED (the process's user and system CPU from its start,
// cache sync included, to APPLIED); cpu-s-steady (CPU over the 30 quiet
// seconds); cpu-s-total (its whole life, the deployment's deletion and
// the shutdown included, as wait4 reports it); peak-RSS-MiB (VmHWM at the end of those seconds, the highest of
// all iterations); writes-to-APPLIED (osk_api_writes_total, from its
// /metrics, once APPLIED); writes-steady and passes-steady
// (osk_api_writes_total and controller_runtime_reconcile_total over the
// quiet seconds: a pass with nothing to change should write nothing);
// error-logs (the error lines it logged, before SIGTERM); s-to-exit (from
// SIGTERM).
func BenchmarkOperatorProcess(b *testing.B) {
	env := sandboxtest.Get(b)
	env.InstallCRDs(b)
	osk := proctest.BuildOsk(b)
	var sum processRun
	for b.Loop() {
		r := runOperatorProcess(b, env, osk)
		sum.applied += r.applied
		sum.cpuToApplied += r.cpuToApplied
		sum.cpuSteady += r.cpuSteady
		sum.cpuTotal += r.cpuTotal
		sum.peakRSSKiB = max(sum.peakRSSKiB, r.peakRSSKiB)
		sum.writesToApplied += r.writesToApplied
		sum.writesSteady += r.writesSteady
		sum.passesSteady += r.passesSteady
		sum.errorLogs += r.errorLogs
		sum.exit += r.exit
	}
	n := float64(b.N)
	b.ReportMetric(sum.applied.Seconds()/n, "s-to-APPLIED")
	b.ReportMetric(sum.cpuToApplied.Seconds()/n, "cpu-s-to-APPLIED")
	b.ReportMetric(sum.cpuSteady.Seconds()/n, "cpu-s-steady")
	b.ReportMetric(sum.cpuTotal.Seconds()/n, "cpu-s-total")
	b.ReportMetric(float64(sum.peakRSSKiB)/1024, "peak-RSS-MiB")
	b.ReportMetric(sum.writesToApplied/n, "writes-to-APPLIED")
	b.ReportMetric(sum.writesSteady/n, "writes-steady")
	b.ReportMetric(sum.passesSteady/n, "passes-steady")
	b.ReportMetric(float64(sum.errorLogs)/n, "error-logs")
	b.ReportMetric(sum.exit.Seconds()/n, "s-to-exit")
}

// processRun holds the figures of one run of the operator process.
type processRun struct {
	applied, cpuToApplied, cpuSteady, cpuTotal, exit time.Duration
	peakRSSKiB                                       int64
	writesToApplied, writesSteady                    float64
	passesSteady                                     float64
	errorLogs                                        int
}

// runOperatorProcess starts the operator, deploys the compute example
// until APPLIED, measures the steady period, deletes the deployment and
// stops the operator.
func runOperatorProcess(b *testing.B, env *sandboxtest.Env, osk string) processRun {
	var r processRun
	c := env.Client()
	ns := env.Namespace(b)
	metricsAddr, probeAddr := proctest.FreeAddr(b), proctest.FreeAddr(b)
	p := operatortest.StartChild(b, osk, "operator",
		"--kubeconfig", env.Sandbox.Kubeconfig(),
		"--metrics-bind-address", metricsAddr, "--health-probe-bind-address", probeAddr,
		// As in its Deployment: leader election, here in the run's namespace.
		"--leader-elect", "--leader-election-namespace", ns)
	p.WaitReady(b, "http://"+probeAddr+"/readyz")

	d := loadExample(b, "compute", ns)
	cephtest.Create(b, c, ns)
	start := time.Now()
	if err := c.Create(b.Context(), d); err != nil {
		b.Fatalf("creating the compute deployment: %v", err)
	}
	waitApplied(b, p.Context(b), c, d)
	r.applied = time.Since(start)
	r.cpuToApplied = p.CPU(b)

	before := operatortest.Scrape(b, metricsAddr)
	select {
	case <-p.Exited:
		b.Fatalf("the operator exited while steady (%v); its output ends with:\n%s", p.ExitErr(), p.LogTail())
	case <-time.After(steadyPeriod):
	}
	after := operatortest.Scrape(b, metricsAddr)
	// A counter vector shows no sample until it counts: a name missing
	// would read as zero, and prove nothing.
	for _, name := range []string{"osk_api_writes_total", "controller_runtime_reconcile_total"} {
		if _, ok := before[name]; !ok {
			b.Fatalf("the operator's /metrics has no %s", name)
		}
	}
	r.writesToApplied = before["osk_api_writes_total"]
	r.cpuSteady = p.CPU(b) - r.cpuToApplied
	r.peakRSSKiB = p.PeakRSS(b)
	r.writesSteady = after["osk_api_writes_total"] - before["osk_api_writes_total"]
	r.passesSteady = after["controller_runtime_reconcile_total"] - before["controller_runtime_reconcile_total"]

	// The next iteration's operator must find nothing of this one.
	if err := c.Delete(b.Context(), d); err != nil {
		b.Fatal(err)
	}
	sandboxtest.Eventually(b, 2*time.Minute, "the compute deployment to be gone", func(ctx context.Context) error {
		err := c.Get(ctx, client.ObjectKeyFromObject(d), &v1.OpenStackDeployment{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
	r.errorLogs = p.ErrorLines(b)
	r.exit = p.Terminate(b)
	// wait4's account of the whole life, deletion and shutdown included.
	r.cpuTotal = p.Cmd.ProcessState.UserTime() + p.Cmd.ProcessState.SystemTime()
	return r
}
