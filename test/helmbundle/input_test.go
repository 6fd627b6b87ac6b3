package helmbundle_test

import (
	"fmt"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestBadInputTouchesNothing: a bundle that names an unknown repository,
// a missing chart or version, or has a dependency cycle, says so in its
// conditions, and leaves the installed release alone, though the bad
// spec no longer lists it.
func TestBadInputTouchesNothing(t *testing.T) {
	f := setup(t)
	url := httpRepo(t)
	b := f.installOne(url, nil)
	for _, tc := range []struct {
		name     string
		releases []v1.HelmRelease
		reason   string
		message  string
	}{
		{"unknown repository", []v1.HelmRelease{{Name: "x", Chart: "elsewhere/app"}}, "InvalidSpec",
			`release x: chart elsewhere/app: unknown repository "elsewhere"`},
		{"missing chart", []v1.HelmRelease{rel("x", "nothing", "", nil)}, "ResolveFailed",
			"release x: chart nothing version \"\" in repository charts: no chart name found"},
		{"unresolvable version", []v1.HelmRelease{rel("x", "app", ">=9.0.0", nil)}, "ResolveFailed",
			"release x: chart app version \">=9.0.0\" in repository charts: no chart version found for app->=9.0.0"},
		{"dependency cycle", []v1.HelmRelease{rel("x", "app", "", nil, "y"), rel("y", "app", "", nil, "x")}, "InvalidSpec",
			"dependency cycle between releases x, y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.update(b, func(b *v1.HelmBundle) { b.Spec.Releases = tc.releases })
			got := f.waitBundle(b, "the bundle to report "+tc.reason, func(b *v1.HelmBundle) error {
				c := apimeta.FindStatusCondition(b.Status.Conditions, v1.ConditionSpecValid)
				if c == nil || c.ObservedGeneration != b.Generation || c.Reason != tc.reason {
					return fmt.Errorf("SpecValid: %+v", c)
				}
				return nil
			})
			c := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionSpecValid)
			if c.Status != "False" || !strings.Contains(c.Message, tc.message) {
				t.Errorf("SpecValid = %s %q, want False %q", c.Status, c.Message, tc.message)
			}
			if ready := apimeta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady); ready.Status != "False" || ready.Reason != tc.reason {
				t.Errorf("Ready = %s %s, want False %s", ready.Status, ready.Reason, tc.reason)
			}
			if got.Status.ObservedGeneration == got.Generation {
				t.Error("observedGeneration was stamped on a bad spec")
			}
			if r := f.last("web"); r.Version != 1 || r.Info.Status != "deployed" {
				t.Errorf("release web is at revision %d, %s; want it untouched", r.Version, r.Info.Status)
			}
			if _, err := f.storage().Last("x"); err == nil {
				t.Error("release x was installed")
			}
		})
	}
}
