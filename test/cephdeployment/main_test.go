// Package cephdeployment_test proves osk's Ceph controller on the sandbox:
// a real API server holding Rook's CRDs as generated from Rook's own
// types, with a test helper standing in for Rook's operator.
package cephdeployment_test

import (
	"testing"

	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { sandboxtest.Main(m) }
