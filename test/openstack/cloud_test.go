package openstack_test

import (
	"path/filepath"
	"testing"

	"github.com/oskproject/osk/internal/testing/cloudtest"
)

// cloud is testdata/<example>.yaml run by cloudtest, with this package's
// checks as methods.
type cloud struct{ *cloudtest.Cloud }

// newCloud renders testdata/<example>.yaml and starts its
// infrastructure: MariaDB, RabbitMQ and Memcached.
func newCloud(t *testing.T, example string) *cloud {
	t.Helper()
	return &cloud{cloudtest.New(t, filepath.Join("testdata", example+".yaml"), oskBinary)}
}
