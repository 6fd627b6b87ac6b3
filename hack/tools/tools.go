//go:build tools

// Package tools pins the code generators osk runs with `go run`.
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
