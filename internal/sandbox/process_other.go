//go:build !linux

package sandbox

import (
	"errors"
	"os"
	"os/exec"
)

// errUnsupported is returned on systems without PR_SET_PDEATHSIG, which
// the sandbox needs to never leave processes behind.
var errUnsupported = errors.New("the sandbox runs on Linux only")

var errLocked = errors.New("locked by another process")

type launcher struct{}

func newLauncher() *launcher              { return &launcher{} }
func (*launcher) start(*exec.Cmd) error   { return errUnsupported }
func (*launcher) close()                  {}
func signalGroup(int, bool) error         { return errUnsupported }
func signalProcess(int, bool) error       { return errUnsupported }
func lockFile(*os.File) error             { return errUnsupported }
func isLocked(*os.File) (bool, error)     { return false, errUnsupported }
func startReaper(string) (*reaper, error) { return nil, errUnsupported }
func (*reaper) release() error            { return nil }

type reaper struct{}
