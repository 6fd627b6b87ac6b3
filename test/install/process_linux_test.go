//go:build linux

package install_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/poll"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

const (
	// steadyPeriod is how long the operator is left alone once APPLIED.
	steadyPeriod = 30 * time.Second
	// exitGrace is how long the operator may take to exit after SIGTERM.
	exitGrace = 10 * time.Second
	// userHZ is the unit of the CPU times of /proc/<pid>/stat: USER_HZ,
	// which is 100 on every architecture Linux and Go share.
	userHZ = 100
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
	p := startChild(b, osk, "operator",
		"--kubeconfig", env.Sandbox.Kubeconfig(),
		"--metrics-bind-address", metricsAddr, "--health-probe-bind-address", probeAddr,
		// As in its Deployment: leader election, here in the run's namespace.
		"--leader-elect", "--leader-election-namespace", ns)
	p.waitReady(b, "http://"+probeAddr+"/readyz")

	d := loadExample(b, "compute", ns)
	cephtest.Create(b, c, ns)
	start := time.Now()
	if err := c.Create(b.Context(), d); err != nil {
		b.Fatalf("creating the compute deployment: %v", err)
	}
	waitApplied(b, p.context(b), c, d)
	r.applied = time.Since(start)
	r.cpuToApplied = p.cpu(b)

	before := scrape(b, metricsAddr)
	select {
	case <-p.exited:
		b.Fatalf("the operator exited while steady (%v); its output ends with:\n%s", p.exitErr(), p.logTail())
	case <-time.After(steadyPeriod):
	}
	after := scrape(b, metricsAddr)
	// A counter vector shows no sample until it counts: a name missing
	// would read as zero, and prove nothing.
	for _, name := range []string{"osk_api_writes_total", "controller_runtime_reconcile_total"} {
		if _, ok := before[name]; !ok {
			b.Fatalf("the operator's /metrics has no %s", name)
		}
	}
	r.writesToApplied = before["osk_api_writes_total"]
	r.cpuSteady = p.cpu(b) - r.cpuToApplied
	r.peakRSSKiB = p.vmHWM(b)
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
	r.errorLogs = p.errorLines(b)
	r.exit = p.terminate(b)
	// wait4's account of the whole life, deletion and shutdown included.
	r.cpuTotal = p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	return r
}

// child is a process the benchmark started.
type child struct {
	cmd    *exec.Cmd
	log    string        // its standard output and error
	exited chan struct{} // closed once it exited and was reaped
	err    error         // how it exited; set before exited is closed
}

// startChild starts bin with args, its output to a file, an environment
// of its own, and killed if the benchmark dies (or when it ends).
func startChild(b *testing.B, bin string, args ...string) *child {
	b.Helper()
	dir := b.TempDir()
	p := &child{log: filepath.Join(dir, "output.log"), exited: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close() // the child has its own descriptor
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = []string{"HOME=" + dir}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		// The kernel sends Pdeathsig when the thread that forked the child
		// ends, not the process: this thread stays locked, and so alive,
		// until the child is reaped.
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		b.Fatalf("starting %s: %v", bin, err)
	}
	b.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// context returns a context of the benchmark that ends, with the end of
// the process's output as its cause, when the process exits.
func (p *child) context(b *testing.B) context.Context {
	ctx, cancel := context.WithCancelCause(b.Context())
	go func() {
		select {
		case <-p.exited:
			cancel(fmt.Errorf("the operator exited (%w); its output ends with:\n%s", p.exitErr(), p.logTail()))
		case <-ctx.Done():
		}
	}()
	b.Cleanup(func() { cancel(nil) })
	return ctx
}

// waitReady polls url until it answers 200 OK, failing at once if the
// process exits.
func (p *child) waitReady(b *testing.B, url string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(p.context(b), time.Minute)
	defer cancel()
	err := poll.Until(ctx, 100*time.Millisecond, url+" to answer 200", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := metricsClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("%s: %s", resp.Status, body)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// exitErr is how the process exited, once it did: an *exec.ExitError,
// or an error saying it exited 0.
func (p *child) exitErr() error {
	if p.err != nil {
		return p.err
	}
	return errors.New("exit status 0")
}

// cpu returns the user and system CPU time the process has used, all its
// threads together.
func (p *child) cpu(b *testing.B) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// fields 14 and 15, utime and stime, are the 12th and 13th after it.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		b.Fatalf("/proc/%d/stat: no command name: %q", p.cmd.Process.Pid, data)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		b.Fatalf("/proc/%d/stat: %d fields after the command name", p.cmd.Process.Pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatalf("/proc/%d/stat: %v", p.cmd.Process.Pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// vmHWM returns the process's peak resident memory in KiB.
func (p *child) vmHWM(b *testing.B) int64 {
	b.Helper()
	path := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("%s: VmHWM: %v", path, err)
			}
			return kib
		}
	}
	b.Fatalf("%s has no VmHWM", path)
	return 0
}

// terminate sends SIGTERM and waits for the process to exit 0 within
// exitGrace; it returns how long it took.
func (p *child) terminate(b *testing.B) time.Duration {
	b.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(exitGrace):
		b.Fatalf("the operator still runs %s after SIGTERM\n%s", exitGrace, p.logTail())
	}
	took := time.Since(start)
	if p.err != nil {
		b.Fatalf("the operator exited after SIGTERM with %v\n%s", p.err, p.logTail())
	}
	return took
}

// errorLines counts the error lines of the process's JSON log.
func (p *child) errorLines(b *testing.B) int {
	b.Helper()
	f, err := os.Open(p.log)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if bytes.Contains(s.Bytes(), []byte(`"level":"ERROR"`)) {
			n++
		}
	}
	if err := s.Err(); err != nil {
		b.Fatalf("reading %s: %v", p.log, err)
	}
	return n
}

// logTail returns the end of the process's output.
func (p *child) logTail() string {
	data, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	return string(data[max(0, len(data)-4096):])
}

// metricsClient asks the operator's metrics and probe endpoints.
var metricsClient = &http.Client{Timeout: 10 * time.Second}

// scrape reads the operator's /metrics and returns the sum of each
// metric's samples, whatever their labels.
func scrape(b *testing.B, addr string) map[string]float64 {
	b.Helper()
	resp, err := metricsClient.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /metrics: %s", resp.Status)
	}
	sums, err := parseMetrics(resp.Body)
	if err != nil {
		b.Fatalf("GET /metrics: %v", err)
	}
	return sums
}

// parseMetrics sums the samples of the Prometheus text format by metric
// name: `name{labels} value` or `name value`, comments skipped.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	sums := map[string]float64{}
	s := bufio.NewScanner(r)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("malformed sample %q", line)
			}
			name, rest = line[:i], line[j+1:]
		}
		value, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // an optional timestamp follows
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("sample %q: %w", line, err)
		}
		sums[name] += v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("reading the metrics: %w", err)
	}
	return sums, nil
}
