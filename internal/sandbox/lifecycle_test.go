//go:build linux

package sandbox_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/poll"
	"github.com/oskproject/osk/internal/sandbox"
)

// cleanupTimeout bounds how long processes and files may linger once a
// sandbox is stopped or its owner is dead.
const cleanupTimeout = 15 * time.Second

func TestStopLeavesNothingBehind(t *testing.T) {
	sb := start(t, sandbox.Options{Topology: sandbox.Topology{ControlPlane: 1}})
	dir := sb.Dir()
	if got := processesMentioning(t, dir); len(got) < len(sb.Processes()) {
		t.Fatalf("processes mentioning %s while running: %v, want at least the %d components", dir, got, len(sb.Processes()))
	}
	if err := sb.Stop(); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, dir)
}

func TestKilledOwnerLeavesNothingBehind(t *testing.T) {
	owner, state := startOwner(t)
	if err := owner.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = owner.Wait()
	assertNothingLeft(t, filepath.Dir(state.Kubeconfig))
}

func TestShutdownStopsASandboxOfAnotherProcess(t *testing.T) {
	owner, state := startOwner(t)
	dir := filepath.Dir(state.Kubeconfig)
	if state.Owner != owner.Process.Pid || !state.Ready || len(state.Processes) != 5 {
		t.Fatalf("Inspect: got owner %d, ready %v, %d processes; want owner %d, ready, 5 processes",
			state.Owner, state.Ready, len(state.Processes), owner.Process.Pid)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := sandbox.Shutdown(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := owner.Wait(); err != nil {
		t.Errorf("the owner did not stop cleanly: %v", err)
	}
	assertNothingLeft(t, dir)
	if _, err := sandbox.Inspect(dir); !errors.Is(err, sandbox.ErrNotRunning) {
		t.Errorf("Inspect after Shutdown: got %v, want ErrNotRunning", err)
	}
}

func TestStartRefusesADirectoryInUse(t *testing.T) {
	_, state := startOwner(t)
	dir := filepath.Dir(state.Kubeconfig)
	_, err := sandbox.Start(t.Context(), sandbox.Options{Binaries: mustBinaries(t), Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "already holds a running sandbox") {
		t.Fatalf("Start in a directory in use: got %v, want it refused", err)
	}
	if _, err := os.Stat(state.Kubeconfig); err != nil {
		t.Errorf("the refused Start damaged the running sandbox: %v", err)
	}
}

// startOwner starts a sandbox in a separate process, this test binary run
// as a sandbox owner, and returns it once the sandbox is ready. The owner
// is killed when t ends.
func startOwner(t *testing.T) (*exec.Cmd, *sandbox.State) {
	t.Helper()
	mustBinaries(t)
	dir := filepath.Join(t.TempDir(), "sandbox")
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ownerDirEnv+"="+dir)
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		_ = cmd.Wait()
		t.Fatalf("the sandbox owner did not report its state: %v\n%s", err, stderr.Bytes())
	}
	var state sandbox.State
	if err := json.Unmarshal(line, &state); err != nil {
		t.Fatalf("decoding the owner's state %q: %v", line, err)
	}
	return cmd, &state
}

// assertNothingLeft waits until no process mentions dir on its command
// line (every component and the reaper do) and dir is gone.
func assertNothingLeft(t *testing.T, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cleanupTimeout)
	defer cancel()
	err := poll.Until(ctx, 100*time.Millisecond, "the sandbox to be cleaned up", func(context.Context) error {
		if pids := processesMentioning(t, dir); len(pids) > 0 {
			return fmt.Errorf("processes %v still mention %s", pids, dir)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s still exists (%v)", dir, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// processesMentioning returns the live processes, other than zombies,
// with s in their command line.
func processesMentioning(t *testing.T, s string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(s)) || zombie(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// zombie reports whether pid has exited but not been reaped; in a
// container, nobody may reap the orphans of a killed owner.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
	}
	// The state follows the command name, which is in parentheses.
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	return len(rest) > 0 && rest[0] == 'Z'
}
