package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oskproject/osk/internal/poll"
)

// process is a running component.
type process struct {
	name    string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited and been reaped
	err     error         // how it exited; set before exited is closed
	// killed is set before the sandbox kills the process on purpose
	// (KillAndRestart): its exit is not a failure.
	killed atomic.Bool
}

// startComponent starts c's binary from the launcher, in dir, with output
// to dir/logs/<name>.log and an environment of its own: nothing of the
// caller's (a KUBECONFIG, a ~/.kwok) leaks in.
func startComponent(l *launcher, dir, binary string, c component) (*process, error) {
	p := &process{name: c.name, logFile: filepath.Join(dir, "logs", c.name+".log"), exited: make(chan struct{})}
	out, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", c.name, err)
	}
	defer out.Close() // the child has its own descriptor
	p.cmd = exec.Command(binary, c.args...)
	p.cmd.Dir = dir
	p.cmd.Env = []string{"HOME=" + dir}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := l.start(p.cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", c.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// waitHealthy polls url until it answers 200 OK. It fails at once if the
// process exits, and when ctx ends, with what the probe last saw and the
// end of the process's log.
func (p *process) waitHealthy(ctx context.Context, client *http.Client, url string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-p.exited:
			cancel(fmt.Errorf("%s exited: %w", p.name, p.err))
		case <-ctx.Done():
		}
	}()
	err := poll.Until(ctx, healthInterval, p.name+" to be healthy", func(ctx context.Context) error {
		return probeHealth(ctx, client, url)
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, p.logTail())
	}
	return nil
}

// probeHealth gets url and checks the answer is 200 OK.
func probeHealth(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// stop sends SIGTERM to the process's group, then SIGKILL after grace,
// and waits for the process to exit.
func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := signalGroup(p.pid(), false); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
	}
	if err := signalGroup(p.pid(), true); err != nil {
		return err
	}
	<-p.exited
	return nil
}

// logTail returns the last lines of the process's log, to explain a
// failure.
func (p *process) logTail() string {
	const maxBytes, maxLines = 8 << 10, 30
	f, err := os.Open(p.logFile)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > maxBytes {
		if _, err := f.Seek(-maxBytes, io.SeekEnd); err != nil {
			return fmt.Sprintf("(unreadable log: %v)", err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(unreadable log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return fmt.Sprintf("last lines of %s:\n  %s", p.logFile, strings.Join(lines, "\n  "))
}
