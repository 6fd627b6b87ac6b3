//go:build linux

package operatortest

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

	"github.com/oskproject/osk/internal/poll"
)

const (
	// exitGrace is how long the operator may take to exit after SIGTERM.
	exitGrace = 10 * time.Second
	// userHZ is the unit of the CPU times of /proc/<pid>/stat: USER_HZ,
	// which is 100 on every architecture Linux and Go share.
	userHZ = 100
)

// Child is an osk process a test or benchmark started, measured from
// the outside.
type Child struct {
	Cmd    *exec.Cmd     // the running command
	Log    string        // its standard output and error
	Exited chan struct{} // closed once it exited and was reaped
	err    error         // how it exited; set before exited is closed
}

// StartChild starts bin with args, its output to a file, an environment
// of its own, and killed if the benchmark dies (or when it ends).
func StartChild(tb testing.TB, bin string, args ...string) *Child {
	tb.Helper()
	dir := tb.TempDir()
	p := &Child{Log: filepath.Join(dir, "output.log"), Exited: make(chan struct{})}
	out, err := os.Create(p.Log)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close() // the Child has its own descriptor
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Dir = dir
	p.Cmd.Env = []string{"HOME=" + dir}
	p.Cmd.Stdout, p.Cmd.Stderr = out, out
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		// The kernel sends Pdeathsig when the thread that forked the Child
		// ends, not the process: this thread stays locked, and so alive,
		// until the Child is reaped.
		runtime.LockOSThread()
		if err := p.Cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = p.Cmd.Wait()
		close(p.Exited)
	}()
	if err := <-started; err != nil {
		tb.Fatalf("starting %s: %v", bin, err)
	}
	tb.Cleanup(func() {
		select {
		case <-p.Exited:
		default:
			_ = p.Cmd.Process.Kill()
			<-p.Exited
		}
	})
	return p
}

// Context returns a context of the test that ends, with the end of
// the process's output as its cause, when the process exits.
func (p *Child) Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancelCause(tb.Context())
	go func() {
		select {
		case <-p.Exited:
			cancel(fmt.Errorf("the operator exited (%w); its output ends with:\n%s", p.ExitErr(), p.LogTail()))
		case <-ctx.Done():
		}
	}()
	tb.Cleanup(func() { cancel(nil) })
	return ctx
}

// WaitReady polls url until it answers 200 OK, failing at once if the
// process exits.
func (p *Child) WaitReady(tb testing.TB, url string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.Context(tb), time.Minute)
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
		tb.Fatal(err)
	}
}

// ExitErr is how the process exited, once it did: an *exec.ExitError,
// or an error saying it exited 0.
func (p *Child) ExitErr() error {
	if p.err != nil {
		return p.err
	}
	return errors.New("exit status 0")
}

// CPU returns the user and system CPU time the process has used, all its
// threads together.
func (p *Child) CPU(tb testing.TB) time.Duration {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// fields 14 and 15, utime and stime, are the 12th and 13th after it.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		tb.Fatalf("/proc/%d/stat: no command name: %q", p.Cmd.Process.Pid, data)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		tb.Fatalf("/proc/%d/stat: %d fields after the command name", p.Cmd.Process.Pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			tb.Fatalf("/proc/%d/stat: %v", p.Cmd.Process.Pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// PeakRSS returns the process's peak resident memory (VmHWM) in KiB.
func (p *Child) PeakRSS(tb testing.TB) int64 {
	tb.Helper()
	path := fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid)
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("%s: VmHWM: %v", path, err)
			}
			return kib
		}
	}
	tb.Fatalf("%s has no VmHWM", path)
	return 0
}

// Terminate sends SIGTERM and waits for the process to exit 0 within
// exitGrace; it returns how long it took.
func (p *Child) Terminate(tb testing.TB) time.Duration {
	tb.Helper()
	start := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.Exited:
	case <-time.After(exitGrace):
		tb.Fatalf("the operator still runs %s after SIGTERM\n%s", exitGrace, p.LogTail())
	}
	took := time.Since(start)
	if p.err != nil {
		tb.Fatalf("the operator exited after SIGTERM with %v\n%s", p.err, p.LogTail())
	}
	return took
}

// ErrorLines counts the error lines of the process's JSON log.
func (p *Child) ErrorLines(tb testing.TB) int {
	tb.Helper()
	f, err := os.Open(p.Log)
	if err != nil {
		tb.Fatal(err)
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
		tb.Fatalf("reading %s: %v", p.Log, err)
	}
	return n
}

// LogTail returns the end of the process's output.
func (p *Child) LogTail() string {
	data, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	return string(data[max(0, len(data)-4096):])
}

// metricsClient asks the operator's metrics and probe endpoints.
var metricsClient = &http.Client{Timeout: 10 * time.Second}

// Scrape reads the operator's /metrics and returns the sum of each
// metric's samples, whatever their labels.
func Scrape(tb testing.TB, addr string) map[string]float64 {
	tb.Helper()
	sums := map[string]float64{}
	for series, v := range ScrapeSeries(tb, addr) {
		name, _, _ := strings.Cut(series, "{")
		sums[name] += v
	}
	return sums
}

// ScrapeSeries reads the operator's /metrics and returns each sample by
// its series, `name{labels}` as the text format writes it.
func ScrapeSeries(tb testing.TB, addr string) map[string]float64 {
	tb.Helper()
	resp, err := metricsClient.Get("http://" + addr + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %s", resp.Status)
	}
	series, err := ParseMetrics(resp.Body)
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	return series
}

// ParseMetrics reads the samples of the Prometheus text format by series:
// `name{labels} value` or `name value`, comments skipped.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	s := bufio.NewScanner(r)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		series, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("malformed sample %q", line)
			}
			series, rest = line[:j+1], line[j+1:]
		}
		value, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // an optional timestamp follows
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("sample %q: %w", line, err)
		}
		out[series] += v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("reading the metrics: %w", err)
	}
	return out, nil
}
