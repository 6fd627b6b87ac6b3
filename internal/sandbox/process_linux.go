//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// launcher forks the sandbox's processes from one OS thread that stays
// locked, and so alive, for the sandbox's lifetime. The kernel delivers
// PR_SET_PDEATHSIG when the *thread* that forked a child exits, not the
// process; forking from any goroutine would let the Go runtime kill a
// component by retiring an idle thread.
type launcher struct {
	requests chan launchRequest
}

type launchRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// newLauncher starts the launcher's thread.
func newLauncher() *launcher {
	l := &launcher{requests: make(chan launchRequest)}
	go l.serve()
	return l
}

func (l *launcher) serve() {
	// Never unlocked: when serve returns, the runtime ends the thread,
	// and the kernel kills whatever it started that is still running.
	runtime.LockOSThread()
	for r := range l.requests {
		r.cmd.SysProcAttr = &syscall.SysProcAttr{
			Setpgid:   true,            // its own group, signalled as one, spared the terminal's ^C
			Pdeathsig: syscall.SIGKILL, // never outlive the sandbox's owner
		}
		r.done <- r.cmd.Start()
	}
}

// start starts cmd from the launcher's thread.
func (l *launcher) start(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	l.requests <- launchRequest{cmd: cmd, done: done}
	return <-done
}

// close ends the launcher's thread, killing any process it started that is
// still running.
func (l *launcher) close() { close(l.requests) }

// signalGroup sends SIGTERM, or SIGKILL when force is set, to the process
// group led by pid.
func signalGroup(pid int, force bool) error {
	return signal(-pid, force, fmt.Sprintf("process group %d", pid))
}

// signalProcess sends SIGTERM, or SIGKILL when force is set, to pid.
func signalProcess(pid int, force bool) error {
	return signal(pid, force, fmt.Sprintf("process %d", pid))
}

// signal sends SIGTERM, or SIGKILL when force is set, to target, as
// kill(2) takes it; a target already gone is not an error.
func signal(target int, force bool, what string) error {
	sig := syscall.SIGTERM
	if force {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(target, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling %s: %w", what, err)
	}
	return nil
}

// errLocked reports that another process holds a lock.
var errLocked = errors.New("locked by another process")

// wholeFile is an open file description lock on a whole file: held until
// every descriptor of the open file is closed, as when its owner dies.
func wholeFile(typ int16) *unix.Flock_t { return &unix.Flock_t{Type: typ, Whence: 0, Start: 0, Len: 0} }

// lockFile takes an exclusive lock on f, or returns errLocked.
func lockFile(f *os.File) error {
	err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, wholeFile(unix.F_WRLCK))
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return errLocked
	}
	return err
}

// isLocked reports whether some process holds a lock on f, without taking
// it.
func isLocked(f *os.File) (bool, error) {
	lk := wholeFile(unix.F_WRLCK)
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}

// reaperScript waits for its standard input, a pipe held open by the
// sandbox's owner only, to reach end-of-file: the owner stopped the sandbox
// or died. It then removes the sandbox's directory ($0), retrying while
// the components, killed at the same moment, finish dying.
const reaperScript = `while read -r _; do :; done
for _ in 1 2 3 4 5 6 7 8 9 10; do rm -rf -- "$0" 2>/dev/null && exit 0; sleep 0.5; done
exit 1`

// reaper removes a sandbox's directory once its owner is gone, however
// the owner ended.
type reaper struct {
	cmd  *exec.Cmd
	pipe *os.File // the write end, held by the owner only
}

// startReaper starts the reaper of dir, in its own session so that the
// terminal's signals do not reach it.
func startReaper(dir string) (*reaper, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", reaperScript, dir)
	cmd.Stdin = r
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	return &reaper{cmd: cmd, pipe: w}, nil
}

// release lets the reaper do its work now, and waits for it.
func (r *reaper) release() error {
	r.pipe.Close()
	if err := r.cmd.Wait(); err != nil {
		return fmt.Errorf("reaper: %w", err)
	}
	return nil
}
