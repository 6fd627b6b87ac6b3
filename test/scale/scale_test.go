// Package scale_test measures osk's operator, its own process, on
// sandboxes of a thousand compute nodes and more: make bench-scale.
package scale_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/sandbox"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/operatortest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

const (
	// applyTimeout bounds the wait for APPLIED at scale.
	applyTimeout = 40 * time.Minute
	// coverTimeout bounds the wait for a node's DaemonSet pods.
	coverTimeout = 5 * time.Minute
	// settle is how long the operator is left alone before a measurement.
	settle = 10 * time.Second
)

// computes is the number of compute nodes: OSK_SCALE_COMPUTES, 1,000 by
// default.
func computes() int {
	n, err := strconv.Atoi(os.Getenv("OSK_SCALE_COMPUTES"))
	if err != nil || n < 1 {
		return 1000
	}
	return n
}

// topology is 3 control-plane nodes, computes() compute nodes and 3
// gateways; only the control plane and the gateways have local volumes.
func topology() sandbox.Topology {
	t := sandbox.DefaultTopology()
	t.ControlPlane, t.Compute, t.Gateway = 3, computes(), 3
	t.BareComputes = true
	return t
}

func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		fmt.Println("test/scale holds benchmarks only (make bench-scale); no sandbox started")
		os.Exit(m.Run())
	}
	sandboxtest.Main(m, sandboxtest.WithTopology(topology()))
}

// BenchmarkScaleCompute runs `osk operator` as its own process on the
// scale topology, deploys examples/compute.yaml and reports: s-to-APPLIED;
// the operator's cpu-s-to-APPLIED and peak-RSS-MiB (VmHWM at the end);
// one pass with nothing to change (started by an annotation):
// s-idle-pass, writes-idle-pass and requests-idle-pass (every request to
// the API server, logged by verb and resource); one added compute node:
// s-node-covered (from the node Ready to every DaemonSet's pod on it
// ready), writes-node-added and passes-node-added; one removed node:
// s-node-removed (until every DaemonSet counts it out), writes-node-removed;
// the upgrade from caracal to epoxy: s-upgrade, cpu-s-upgrade,
// passes-upgrade, writes-upgrade and operator-%-upgrade.
func BenchmarkScaleCompute(b *testing.B) {
	env := sandboxtest.Get(b)
	env.InstallCRDs(b)
	osk := proctest.BuildOsk(b)
	for b.Loop() {
		r := &run{b: b, env: env, c: env.Client()}
		r.deploy(osk)
		r.idlePass()
		r.addNode()
		r.removeNode()
		r.upgrade()
		r.report(float64(r.p.PeakRSS(b))/1024, "peak-RSS-MiB")
		r.heap()
		b.Logf("%d compute nodes: figures above; the operator's log: %s", computes(), r.p.Log)
	}
}

// run is one iteration's operator and deployment.
type run struct {
	b       *testing.B
	env     *sandboxtest.Env
	c       client.Client
	p       *operatortest.Child
	metrics string
	pprof   string
	d       *v1.OpenStackDeployment
}

// deploy starts the operator and deploys the compute example until
// APPLIED.
func (r *run) deploy(osk string) {
	b := r.b
	ns := r.env.Namespace(b)
	var probe string
	r.metrics, probe, r.pprof = proctest.FreeAddr(b), proctest.FreeAddr(b), proctest.FreeAddr(b)
	r.p = operatortest.StartChild(b, osk, "operator", "--kubeconfig", r.env.Sandbox.Kubeconfig(),
		"--metrics-bind-address", r.metrics, "--health-probe-bind-address", probe, "--pprof-bind-address", r.pprof)
	r.p.WaitReady(b, "http://"+probe+"/readyz")
	d, err := manifest.Load(filepath.Join("..", "..", "examples", "compute.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	d.Namespace = ns
	cephtest.Create(b, r.c, ns)
	start := time.Now()
	if err := r.c.Create(b.Context(), d); err != nil {
		b.Fatal(err)
	}
	r.d = d
	r.waitApplied(start, "caracal")
	r.report(time.Since(start).Seconds(), "s-to-APPLIED")
	r.report(r.p.CPU(b).Seconds(), "cpu-s-to-APPLIED")
}

// waitApplied waits until the deployment is APPLIED at release, logging
// its progress and, while it waits, what each service waits for.
func (r *run) waitApplied(start time.Time, release string) {
	b := r.b
	var last string
	sandboxtest.Eventually(b, applyTimeout, "compute to be APPLIED at "+release, func(ctx context.Context) error {
		got := &v1.OpenStackDeployment{}
		if err := r.c.Get(ctx, client.ObjectKeyFromObject(r.d), got); err != nil {
			return err
		}
		if progress := got.Status.Progress; progress != last {
			b.Logf("%4.0f s: progress %s", time.Since(start).Seconds(), progress)
			last = progress
		}
		if got.Status.ObservedGeneration != got.Generation || got.Status.State != v1.StateApplied || got.Status.DeployedVersion != release {
			return fmt.Errorf("state %q at %q, progress %s, waiting: %s", got.Status.State, got.Status.DeployedVersion, got.Status.Progress, waiting(got))
		}
		return nil
	})
}

// upgrade takes the deployment from caracal to epoxy and measures the
// upgrade's wall time, the operator's CPU and passes over it, and the
// operator's share (its passes' summed duration over the wall time).
func (r *run) upgrade() {
	b := r.b
	before := operatortest.ScrapeSeries(b, r.metrics)
	cpu := r.p.CPU(b)
	start := time.Now()
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"openstackVersion":"epoxy"}}`))
	if err := r.c.Patch(b.Context(), r.d, patch); err != nil {
		b.Fatal(err)
	}
	r.waitApplied(start, "epoxy")
	wall := time.Since(start).Seconds()
	after := operatortest.ScrapeSeries(b, r.metrics)
	r.report(wall, "s-upgrade")
	r.report((r.p.CPU(b) - cpu).Seconds(), "cpu-s-upgrade")
	r.report(sum(after, "osk_reconcile_pass_seconds_count")-sum(before, "osk_reconcile_pass_seconds_count"), "passes-upgrade")
	r.report(100*(sum(after, "osk_reconcile_pass_seconds_sum")-sum(before, "osk_reconcile_pass_seconds_sum"))/wall, "operator-%-upgrade")
	r.report(sum(after, "osk_api_writes_total")-sum(before, "osk_api_writes_total"), "writes-upgrade")
}

// idlePass starts one pass with nothing to change and measures it.
func (r *run) idlePass() {
	b := r.b
	time.Sleep(settle)
	before := operatortest.ScrapeSeries(b, r.metrics)
	patch := client.RawPatch("application/merge-patch+json",
		fmt.Appendf(nil, `{"metadata":{"annotations":{"bench.osk.dev/poke":"%d"}}}`, time.Now().UnixNano()))
	if err := r.c.Patch(b.Context(), r.d, patch); err != nil {
		b.Fatal(err)
	}
	passes := "osk_reconcile_pass_seconds_count"
	sandboxtest.Eventually(b, time.Minute, "the pass to run", func(context.Context) error {
		if sum(operatortest.ScrapeSeries(b, r.metrics), passes) <= sum(before, passes) {
			return fmt.Errorf("no pass yet")
		}
		return nil
	})
	time.Sleep(settle)
	after := operatortest.ScrapeSeries(b, r.metrics)
	n := sum(after, passes) - sum(before, passes)
	r.report((sum(after, "osk_reconcile_pass_seconds_sum")-sum(before, "osk_reconcile_pass_seconds_sum"))/n, "s-idle-pass")
	r.report((sum(after, "osk_api_writes_total")-sum(before, "osk_api_writes_total"))/n, "writes-idle-pass")
	r.report((sum(after, "osk_api_requests_total")-sum(before, "osk_api_requests_total"))/n, "requests-idle-pass")
	b.Logf("%.0f idle passes; requests: %s", n, delta(before, after, "osk_api_requests_total"))
}

// addNode adds a compute node and measures until every DaemonSet that
// selects it runs a ready pod on it.
func (r *run) addNode() {
	b := r.b
	t := topology()
	t.Compute++
	nodes := t.Nodes(r.env.Sandbox.Binaries().KubernetesVersion())
	node := nodes[t.ControlPlane+t.Compute-1]
	before := operatortest.ScrapeSeries(b, r.metrics)
	if err := r.c.Create(b.Context(), node); err != nil {
		b.Fatalf("adding node %s: %v", node.Name, err)
	}
	sandboxtest.Eventually(b, coverTimeout, "node "+node.Name+" to be ready", func(ctx context.Context) error {
		got := &corev1.Node{}
		if err := r.c.Get(ctx, client.ObjectKeyFromObject(node), got); err != nil {
			return err
		}
		if !sandbox.NodeReady(got) {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	ready := time.Now()
	var selecting []string
	sandboxtest.Eventually(b, coverTimeout, "every DaemonSet to cover "+node.Name, func(ctx context.Context) error {
		var err error
		selecting, err = r.uncovered(ctx, node)
		return err
	})
	r.report(time.Since(ready).Seconds(), "s-node-covered")
	time.Sleep(settle)
	after := operatortest.ScrapeSeries(b, r.metrics)
	r.report(sum(after, "osk_api_writes_total")-sum(before, "osk_api_writes_total"), "writes-node-added")
	r.report(sum(after, "osk_reconcile_pass_seconds_count")-sum(before, "osk_reconcile_pass_seconds_count"), "passes-node-added")
	b.Logf("node %s covered by %d DaemonSets: %s; writes: %s", node.Name, len(selecting), strings.Join(selecting, ", "),
		delta(before, after, "osk_api_writes_total"))
}

// uncovered returns the DaemonSets of the deployment that select node,
// or an error naming one without a ready pod on it.
func (r *run) uncovered(ctx context.Context, node *corev1.Node) ([]string, error) {
	sets := &appsv1.DaemonSetList{}
	if err := r.c.List(ctx, sets, client.InNamespace(r.d.Namespace)); err != nil {
		return nil, err
	}
	pods := &corev1.PodList{}
	if err := r.c.List(ctx, pods, client.InNamespace(r.d.Namespace), client.MatchingFields{"spec.nodeName": node.Name}); err != nil {
		return nil, err
	}
	var selecting []string
	for _, ds := range sets.Items {
		if !labels.SelectorFromSet(ds.Spec.Template.Spec.NodeSelector).Matches(labels.Set(node.Labels)) {
			continue
		}
		selecting = append(selecting, ds.Name)
		if !slices.ContainsFunc(pods.Items, func(p corev1.Pod) bool { return ownedBy(&p, &ds) && podReady(&p) }) {
			return nil, fmt.Errorf("DaemonSet %s has no ready pod on %s", ds.Name, node.Name)
		}
	}
	if len(selecting) == 0 {
		return nil, fmt.Errorf("no DaemonSet selects %s", node.Name)
	}
	return selecting, nil
}

// removeNode deletes the added node and measures until every DaemonSet
// counts it out.
func (r *run) removeNode() {
	b := r.b
	t := topology()
	name := fmt.Sprintf("compute-%d", t.Compute)
	before := operatortest.ScrapeSeries(b, r.metrics)
	start := time.Now()
	if err := r.c.Delete(b.Context(), nodeNamed(name)); err != nil {
		b.Fatalf("removing node %s: %v", name, err)
	}
	sandboxtest.Eventually(b, coverTimeout, "every DaemonSet to count "+name+" out", func(ctx context.Context) error {
		pods := &corev1.PodList{}
		if err := r.c.List(ctx, pods, client.InNamespace(r.d.Namespace), client.MatchingFields{"spec.nodeName": name}); err != nil {
			return err
		}
		if len(pods.Items) > 0 {
			return fmt.Errorf("%d pods still on %s", len(pods.Items), name)
		}
		return nil
	})
	r.report(time.Since(start).Seconds(), "s-node-removed")
	time.Sleep(settle)
	after := operatortest.ScrapeSeries(b, r.metrics)
	r.report(sum(after, "osk_api_writes_total")-sum(before, "osk_api_writes_total"), "writes-node-removed")
}

// heap reports the operator's live heap at the end of the run and keeps
// its heap profile, listing where the memory goes: the profile stays in
// the system's temporary directory for `go tool pprof`.
func (r *run) heap() {
	b := r.b
	series := operatortest.ScrapeSeries(b, r.metrics)
	r.report(series["go_memstats_heap_inuse_bytes"]/(1<<20), "heap-inuse-MiB")
	resp, err := http.Get("http://" + r.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		b.Fatalf("reading the heap profile: %v", err)
	}
	defer resp.Body.Close()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("osk-scale-heap-%d.pb.gz", computes()))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Fatalf("saving the heap profile: %v", err)
	}
	top, err := exec.Command("go", "tool", "pprof", "-top", "-sample_index=inuse_space", path).CombinedOutput()
	if err != nil {
		b.Fatalf("go tool pprof: %v: %s", err, top)
	}
	lines := strings.SplitN(string(top), "\n", 25)
	b.Logf("heap profile %s:\n%s", path, strings.Join(lines[:min(len(lines), 24)], "\n"))
}

// waiting lists the services of d that are not ready, with what they
// wait for.
func waiting(d *v1.OpenStackDeployment) string {
	var out []string
	for name, st := range d.Status.Services {
		if st.State != v1.ServiceReady {
			out = append(out, fmt.Sprintf("%s %s (%d/%d): %s", name, st.State, st.Ready, st.Total, st.Message))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

func nodeNamed(name string) *corev1.Node {
	n := &corev1.Node{}
	n.Name = name
	return n
}

func ownedBy(p *corev1.Pod, ds *appsv1.DaemonSet) bool {
	return slices.ContainsFunc(p.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == ds.UID })
}

func podReady(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
}

// sum adds the samples of a metric, whatever their labels.
func sum(series map[string]float64, name string) float64 {
	var s float64
	for k, v := range series {
		if k == name || strings.HasPrefix(k, name+"{") {
			s += v
		}
	}
	return s
}

// delta lists how each series of a metric grew, largest first.
func delta(before, after map[string]float64, name string) string {
	var out []string
	for k, v := range after {
		if d := v - before[k]; d > 0 && strings.HasPrefix(k, name+"{") {
			out = append(out, fmt.Sprintf("%s %.0f", strings.TrimPrefix(k, name), d))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// report reports a figure, and logs it at once: a run of thousands of
// nodes that is stopped keeps the figures it reached.
func (r *run) report(v float64, unit string) {
	r.b.ReportMetric(v, unit)
	r.b.Logf("%s: %.3f", unit, v)
}
