package helmbundle_test

import (
	"fmt"
	"testing"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestOCIRegistry installs from an OCI registry run inside the test, the
// version chosen by a range, then upgrades to a new range.
func TestOCIRegistry(t *testing.T) {
	f := setup(t)
	b := f.newBundle(ociRepo(t), rel("web", "app", "<0.2.0", map[string]any{"message": "oci"}), rel("cache", "settings", "", nil, "web"))
	f.create(b)
	got := f.waitReady(b)
	if s := statusOf(got, "web"); s.ChartVersion != "0.1.0" {
		t.Errorf("web runs %s, want 0.1.0", s.ChartVersion)
	}
	f.wantConfig("web-config", "message", "oci")
	f.update(b, func(b *v1.HelmBundle) { b.Spec.Releases[0].Version = ">=0.2.0" })
	f.waitBundle(b, "web to run 0.2.0", func(b *v1.HelmBundle) error {
		if s := statusOf(b, "web"); s.ChartVersion != "0.2.0" || s.State != v1.ReleaseInSync {
			return fmt.Errorf("web: %+v", s)
		}
		return nil
	})
	f.wantConfig("web-config", "chartVersion", "0.2.0")
}
