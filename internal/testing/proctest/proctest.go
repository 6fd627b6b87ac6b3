// Package proctest runs the real servers tests need (MariaDB, RabbitMQ,
// OpenStack services) as child processes on loopback: free ports, a log
// file per process, its tail shown when the server does not come up, and
// a stop that cannot leave the process behind.
package proctest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/poll"
)

// FreeAddr returns 127.0.0.1:port with a port nothing listens on.
func FreeAddr(t testing.TB) string { return fmt.Sprintf("127.0.0.1:%d", FreePort(t)) }

// Ports FreePort chooses from: below Linux's ephemeral range (32768 and
// up by default), so that no outgoing connection's source port and no
// listener on port 0 of a test running beside this one takes the port
// between FreePort's check and the server's bind.
const (
	firstFreePort = 20000
	lastFreePort  = 32767
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on, chosen
// at random among ports the kernel does not hand out by itself.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := firstFreePort + rand.IntN(lastFreePort-firstFreePort+1)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatalf("no free port between %d and %d after 100 tries", firstFreePort, lastFreePort)
	return 0
}

// Need fails t, naming the Debian package to install, when a program is
// not on PATH.
func Need(t testing.TB, pkg string, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s not found: install Debian's %s (.ci/run does): %v", p, pkg, err)
		}
	}
}

// Process is a started server.
type Process struct {
	// Name says what it is in messages.
	Name string
	// Log is the file its output goes to.
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts cmd in its own process group with its output in
// dir/<name>.log, and stops the whole group when t ends: SIGTERM, then
// SIGKILL after 20 seconds. When t failed, the log's tail is shown.
func Start(t testing.TB, dir, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Name: name, Log: filepath.Join(dir, name+".log"), cmd: cmd, done: make(chan struct{})}
	log, err := os.Create(p.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	done := p.done
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s's log, as the test failed:\n%s", name, p.Tail())
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		log.Close()
	})
	return p
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Tail returns the last lines of the process's log.
func (p *Process) Tail() string { return TailFile(p.Log, 40) }

// TailFile returns the last n lines of a file, or why it cannot.
func TailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return "--- " + path + " (last lines)\n" + Tail(string(b), n)
}

// Tail returns the last n lines of a command's output or a log.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// WaitUntil calls ready until it returns nil, failing t with the last
// error and the process's log tail after timeout.
func (p *Process) WaitUntil(t testing.TB, timeout time.Duration, ready func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := poll.Until(ctx, 200*time.Millisecond, p.Name+" to come up", func(context.Context) error { return ready() }); err != nil {
		t.Fatalf("%v\n%s", err, p.Tail())
	}
}

// Signal sends sig to the process's whole group, children included,
// without waiting.
func (p *Process) Signal(sig syscall.Signal) error { return syscall.Kill(-p.cmd.Process.Pid, sig) }

// Kill sends SIGKILL to the process's whole group, as when the node under
// a pod fails, and waits until the process exited.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.Signal(syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		t.Fatalf("killing %s: %v", p.Name, err)
	}
	<-p.done
}

// BuildOsk builds this module's osk binary into a temporary directory of
// t and returns its path.
func BuildOsk(t testing.TB) string {
	t.Helper()
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(mod)) == "" {
		t.Fatalf("finding the osk module: %v", err)
	}
	out := filepath.Join(t.TempDir(), "osk")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", out, "./cmd/osk")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/osk: %v\n%s", err, msg)
	}
	return out
}
