//go:build tools

// Package rookcrds pins controller-gen and Rook's API, from whose types
// `make rook-crds` generates Rook's CRDs.
package rookcrds

import (
	_ "github.com/rook/rook/pkg/apis/ceph.rook.io/v1"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
