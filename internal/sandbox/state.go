package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oskproject/osk/internal/poll"
)

// Files through which other processes find and stop a sandbox.
const (
	// lockName is locked by the sandbox's owner for as long as it lives,
	// and holds its pid.
	lockName = "lock"
	// stateName describes the sandbox once it is ready.
	stateName = "sandbox.json"
)

// ErrNotRunning is returned for a directory holding no running sandbox.
var ErrNotRunning = errors.New("no sandbox is running there")

// State describes a running sandbox for other processes, as recorded in its
// directory.
type State struct {
	// Owner is the pid of the process that started the sandbox and stops
	// it; its components die with it.
	Owner int `json:"owner"`
	// Ready is false while the sandbox is starting; the fields below are
	// only set once it is ready.
	Ready      bool              `json:"ready"`
	Server     string            `json:"server,omitempty"`
	Kubeconfig string            `json:"kubeconfig,omitempty"`
	Started    time.Time         `json:"started"`
	Versions   map[string]string `json:"versions,omitempty"`
	Processes  []Process         `json:"processes,omitempty"`
}

// acquireDir locks dir for this process, recording its pid in the lock.
func acquireDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking the sandbox directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%s already holds a running sandbox", dir)
		}
		return nil, fmt.Errorf("locking the sandbox directory: %w", err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("recording the sandbox's owner: %w", err)
	}
	return f, nil
}

// writeState records the ready sandbox, atomically.
func (s *Sandbox) writeState(started time.Time) error {
	state := State{
		Owner:      os.Getpid(),
		Ready:      true,
		Server:     s.plan.config.Host,
		Kubeconfig: s.plan.kubeconfig,
		Started:    started,
		Versions:   s.bins.Versions,
		Processes:  s.Processes(),
	}
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the sandbox state: %w", err)
	}
	tmp := filepath.Join(s.dir, stateName+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("writing the sandbox state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, stateName)); err != nil {
		return fmt.Errorf("writing the sandbox state: %w", err)
	}
	return nil
}

// Inspect returns the state of the sandbox running in dir, or
// ErrNotRunning.
func Inspect(dir string) (*State, error) {
	owner, err := liveOwner(dir)
	if err != nil {
		return nil, err
	}
	state := &State{Owner: owner}
	data, err := os.ReadFile(filepath.Join(dir, stateName))
	if errors.Is(err, fs.ErrNotExist) {
		return state, nil // still starting
	}
	if err != nil {
		return nil, fmt.Errorf("reading the sandbox state: %w", err)
	}
	if err := json.Unmarshal(data, state); err != nil {
		return nil, fmt.Errorf("reading the sandbox state: %w", err)
	}
	return state, nil
}

// liveOwner returns the pid of the live process owning the sandbox in dir,
// or ErrNotRunning.
func liveOwner(dir string) (int, error) {
	f, err := os.Open(filepath.Join(dir, lockName))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ErrNotRunning
	}
	if err != nil {
		return 0, fmt.Errorf("inspecting the sandbox: %w", err)
	}
	defer f.Close()
	locked, err := isLocked(f)
	if err != nil {
		return 0, fmt.Errorf("inspecting the sandbox: %w", err)
	}
	if !locked {
		return 0, ErrNotRunning
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, fmt.Errorf("inspecting the sandbox: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		// Locked but not yet written: the owner is claiming the directory.
		return 0, fmt.Errorf("inspecting the sandbox: no owner recorded in %s", f.Name())
	}
	return pid, nil
}

// Shutdown stops the sandbox in dir that another process started: it asks
// the owner to stop, kills it if it has not stopped when ctx ends, and
// removes the directory. A directory left by an owner that died is just
// removed. Shutdown of a directory that does not exist does nothing.
func Shutdown(ctx context.Context, dir string) error {
	owner, err := liveOwner(dir)
	switch {
	case errors.Is(err, ErrNotRunning):
	case err != nil:
		return err
	default:
		if err := stopOwner(ctx, dir, owner); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the sandbox directory: %w", err)
	}
	return nil
}

// stopOwner sends SIGTERM to owner, then SIGKILL if it still runs when ctx
// ends, and waits until it no longer holds dir.
func stopOwner(ctx context.Context, dir string, owner int) error {
	released := func(context.Context) error {
		if _, err := liveOwner(dir); !errors.Is(err, ErrNotRunning) {
			return fmt.Errorf("process %d still holds %s", owner, dir)
		}
		return nil
	}
	if err := signalProcess(owner, false); err != nil {
		return err
	}
	if poll.Until(ctx, 100*time.Millisecond, "the sandbox to stop", released) == nil {
		return nil
	}
	if err := signalProcess(owner, true); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return poll.Until(ctx, 100*time.Millisecond, "the killed sandbox owner to exit", released)
}
