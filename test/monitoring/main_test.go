package monitoring_test

import (
	"testing"

	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestMain runs the sandbox whose API server keeps the Galera members'
// coordination record.
func TestMain(m *testing.M) { sandboxtest.Main(m) }
