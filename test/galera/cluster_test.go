// Package galera_test proves `osk galera start` on real MariaDB Galera
// members on loopback, each started exactly as a pod starts it, with the
// coordination record kept in the sandbox's API server
// (internal/testing/galeratest).
package galera_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/galeratest"
)

// The harness's names, as this package's tests use them.
type (
	cluster = galeratest.Cluster
	member  = galeratest.Member
)

const (
	rootPassword = galeratest.RootPassword
	recordName   = galeratest.RecordName
)

var withMariabackupSST = galeratest.WithMariabackupSST

// oskBin is the osk binary TestMain builds.
var oskBin string

// newCluster prepares three members (not started) in a namespace of t's.
func newCluster(t testing.TB, options ...func(*cluster)) *cluster {
	return galeratest.New(t, oskBin, options...)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "osk-galera-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	oskBin = filepath.Join(dir, "osk")
	build := exec.Command("go", "build", "-o", oskBin, "./cmd/osk")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: building osk: %v\n%s", err, out)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	sandboxtest.Main(m)
}
