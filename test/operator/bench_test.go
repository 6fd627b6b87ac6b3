package operator_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/controllers"
	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// BenchmarkApplyCompute and BenchmarkApplyFull measure, with the operator
// in this process: the time from creating the deployment to APPLIED, the
// process's CPU time per deployment, its peak resident memory, and the API
// writes of a reconcile pass once APPLIED (target: zero).
func BenchmarkApplyCompute(b *testing.B) { benchmarkApply(b, "compute") }

// BenchmarkApplyFull is BenchmarkApplyCompute for examples/full.yaml, with
// its network-backed volumes on the sandbox's local-volume class: the
// example names Ceph RBD's class, and Ceph is not part of the sandbox, so
// a claim of that class would never bind.
func BenchmarkApplyFull(b *testing.B) {
	benchmarkApply(b, "full", func(d *v1.OpenStackDeployment) {
		d.Spec.StorageClasses.Persistent = sandbox.StorageClassName
	})
}

func benchmarkApply(b *testing.B, example string, mutate ...func(*v1.OpenStackDeployment)) {
	sandboxtest.LogOperatorAt(slog.LevelInfo)
	env := sandboxtest.Get(b)
	env.InstallCRDs(b)
	// examples/full.yaml turns StackLight on.
	env.InstallCRDs(b, filepath.Join("..", "testdata", "prometheus-operator-crds"))
	c := env.Client()
	startOperator(b, env)
	var applied time.Duration
	var cpu time.Duration
	var steadyWrites float64
	for i := 0; b.Loop(); i++ {
		ns := env.Namespace(b)
		cpu0 := cpuTime()
		start := time.Now()
		d := deploy(b, c, example, ns, mutate...)
		waitState(b, c, d, v1.StateApplied, applyTimeout)
		applied += time.Since(start)
		cpu += cpuTime() - cpu0

		before := writes()
		poke(b, c, d)
		time.Sleep(3 * time.Second) // the pass the annotation triggers
		steadyWrites += writes() - before
	}
	n := float64(b.N)
	b.ReportMetric(applied.Seconds()/n, "s-to-APPLIED")
	b.ReportMetric(cpu.Seconds()/n, "cpu-s/deployment")
	b.ReportMetric(float64(maxRSS())/1024, "peak-RSS-MiB")
	b.ReportMetric(steadyWrites/n, "writes/steady-pass")
}

// poke changes an annotation, which makes the operator run a pass with
// nothing to change.
func poke(b *testing.B, c client.Client, d *v1.OpenStackDeployment) {
	patch := client.RawPatch("application/merge-patch+json", fmt.Appendf(nil, `{"metadata":{"annotations":{"bench/poke":"%d"}}}`, time.Now().UnixNano()))
	if err := c.Patch(context.Background(), d, patch); err != nil {
		b.Fatal(err)
	}
}

// writes is the operator's API writes so far, all of them or those of
// one kind.
func writes(kind ...string) float64 {
	ch := make(chan prometheus.Metric, 100)
	controllers.APIWrites.Collect(ch)
	close(ch)
	sum := 0.0
	for m := range ch {
		var out dto.Metric
		_ = m.Write(&out)
		if len(kind) > 0 && !slices.ContainsFunc(out.GetLabel(), func(l *dto.LabelPair) bool {
			return l.GetName() == "kind" && l.GetValue() == kind[0]
		}) {
			continue
		}
		sum += out.GetCounter().GetValue()
	}
	return sum
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxRSS is the process's peak resident memory in KiB.
func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}

// BenchmarkUpgradeCompute measures the upgrade of examples/compute.yaml
// from caracal to epoxy: the time from the spec change to APPLIED at
// epoxy; the operator's share of it, the summed duration of its reconcile
// passes over the deployment (its own work, as opposed to waiting on Jobs
// and rollouts); the number of passes; and the process's CPU time during
// the upgrade. Deploying caracal first is not measured.
func BenchmarkUpgradeCompute(b *testing.B) {
	sandboxtest.LogOperatorAt(slog.LevelInfo)
	env := sandboxtest.Get(b)
	env.InstallCRDs(b)
	c := env.Client()
	startOperator(b, env)
	var wall, busy, cpu time.Duration
	var passes uint64
	var written, statuses float64
	phases := map[string]time.Duration{}
	for b.Loop() {
		b.StopTimer()
		d := waitState(b, c, deploy(b, c, "compute", env.Namespace(b)), v1.StateApplied, applyTimeout)
		b.StartTimer()
		busy0, passes0 := passTime(b, d)
		phases0 := phaseTimes(b)
		writes0, statuses0 := writes(), writes("OpenStackDeployment")
		cpu0, start := cpuTime(), time.Now()
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"openstackVersion":"epoxy"}}`))
		if err := c.Patch(context.Background(), d, patch); err != nil {
			b.Fatal(err)
		}
		got := waitState(b, c, d, v1.StateApplied, upgradeTimeout)
		wall += time.Since(start)
		cpu += cpuTime() - cpu0
		if got.Status.DeployedVersion != "epoxy" {
			b.Fatalf("APPLIED at %q", got.Status.DeployedVersion)
		}
		written += writes() - writes0
		statuses += writes("OpenStackDeployment") - statuses0
		busy1, passes1 := passTime(b, d)
		busy, passes = busy+busy1-busy0, passes+passes1-passes0
		for phase, t := range phaseTimes(b) {
			phases[phase] += t - phases0[phase]
		}
	}
	for phase, t := range phases {
		b.ReportMetric(100*t.Seconds()/wall.Seconds(), phase+"-%")
	}
	n := float64(b.N)
	b.ReportMetric(wall.Seconds()/n, "s-upgrade")
	b.ReportMetric(busy.Seconds()/n, "s-operator-passes")
	b.ReportMetric(100*busy.Seconds()/wall.Seconds(), "operator-%")
	b.ReportMetric(float64(passes)/n, "passes/upgrade")
	b.ReportMetric(cpu.Seconds()/n, "cpu-s/upgrade")
	b.ReportMetric(written/n, "writes/upgrade")
	b.ReportMetric(statuses/n, "status-writes/upgrade")
}

// phaseTimes returns the summed duration of each phase of the operator's
// passes so far (osk_reconcile_phase_seconds), over every deployment.
func phaseTimes(b *testing.B) map[string]time.Duration {
	families, err := metrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]time.Duration{}
	for _, f := range families {
		if f.GetName() != "osk_reconcile_phase_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "phase" {
					out[l.GetValue()] = time.Duration(m.GetHistogram().GetSampleSum() * float64(time.Second))
				}
			}
		}
	}
	return out
}

// passTime returns the summed duration and the count of the operator's
// reconcile passes over a deployment so far (osk_reconcile_pass_seconds).
func passTime(b *testing.B, d *v1.OpenStackDeployment) (time.Duration, uint64) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "osk_reconcile_pass_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == d.Namespace && labels["deployment"] == d.Name {
				h := m.GetHistogram()
				return time.Duration(h.GetSampleSum() * float64(time.Second)), h.GetSampleCount()
			}
		}
	}
	return 0, 0
}
