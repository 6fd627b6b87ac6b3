package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/sandbox"
)

// ownerDirEnv, when set, turns the test binary into a sandbox owner: it
// starts a sandbox in that directory, prints its state as one JSON line,
// and stops it on SIGTERM. The life-cycle tests run it as a separate
// process, to kill it or stop it from outside.
const ownerDirEnv = "OSK_SANDBOX_TEST_OWNER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(ownerDirEnv); dir != "" {
		if err := runOwner(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runOwner runs a sandbox in dir until SIGTERM.
func runOwner(dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	bins, err := binaries()
	if err != nil {
		return err
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{Binaries: bins, Dir: dir, Topology: sandbox.Topology{Compute: 1}})
	if err != nil {
		return err
	}
	state, err := sandbox.Inspect(dir)
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(state)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("reporting the sandbox state: %w", err), sb.Stop())
	}
	<-ctx.Done()
	return sb.Stop()
}

// binaries returns the cached sandbox binaries, or an error saying how to
// build them.
func binaries() (*sandbox.Binaries, error) {
	tools, err := sandbox.LoadToolsFrom(".")
	if err != nil {
		return nil, err
	}
	return tools.Binaries()
}

// mustBinaries returns the cached sandbox binaries, failing tb with how to
// build them if they are missing.
func mustBinaries(tb testing.TB) *sandbox.Binaries {
	tb.Helper()
	bins, err := binaries()
	if err != nil {
		tb.Fatal(err)
	}
	return bins
}

// start starts a sandbox for tb, stopped when tb ends.
func start(tb testing.TB, opts sandbox.Options) *sandbox.Sandbox {
	tb.Helper()
	opts.Binaries = mustBinaries(tb)
	ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := sb.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return sb
}
