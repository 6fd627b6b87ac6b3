package catalog

import (
	"strings"
	"testing"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/release"
)

// TestPrivilegesValidate checks the rules every exception follows.
func TestPrivilegesValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		p       *Privileges
		sidecar bool
		ok      bool
	}{
		"none":                 {p: nil, ok: true},
		"justified root":       {p: &Privileges{Root: true, Why: "x"}, ok: true},
		"no reason":            {p: &Privileges{Root: true}},
		"privileged not root":  {p: &Privileges{Privileged: true, Why: "x"}},
		"privileged and caps":  {p: &Privileges{Root: true, Privileged: true, Capabilities: []string{"NET_ADMIN"}, Why: "x"}},
		"host network sidecar": {p: &Privileges{HostNetwork: true, Why: "x"}, sidecar: true},
		"host network pod":     {p: &Privileges{HostNetwork: true, Why: "x"}, ok: true},
	} {
		if err := tc.p.Validate(tc.sidecar); (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v, want ok %v", name, err, tc.ok)
		}
	}
}

// TestCatalogPrivileges checks every component's and sidecar's
// privileges, and that a component whose image only runs as root says
// so.
func TestCatalogPrivileges(t *testing.T) {
	cat := Default()
	for _, n := range cat.Names() {
		s, _ := cat.Get(n)
		for _, c := range s.Components {
			if err := c.Privileges.Validate(false); err != nil {
				t.Errorf("%s/%s: %v", n, c.Name, err)
			}
			for _, sc := range c.Sidecars {
				if err := sc.Privileges.Validate(true); err != nil {
					t.Errorf("%s/%s/%s: %v", n, c.Name, sc.Name, err)
				}
			}
			rt, err := ImageRuntime(or(c.Image, s.Image))
			if err == nil && rt.UID == 0 && !c.Privileges.RunsAsRoot() {
				t.Errorf("%s/%s: image %s runs only as root, but the component does not say so", n, c.Name, or(c.Image, s.Image))
			}
		}
	}
}

// TestEveryImageHasARuntime checks that every image the catalog names,
// and osk's, has a user and group.
func TestEveryImageHasARuntime(t *testing.T) {
	for name := range DefaultImages(releaseForTest(t)) {
		if _, err := ImageRuntime(name); err != nil {
			t.Error(err)
		}
	}
	if _, err := ImageRuntime("no-such-image"); err == nil {
		t.Error("ImageRuntime of an unknown image did not fail")
	}
}

// TestOskImageFollowsVersion checks osk's image is the build's version.
func TestOskImageFollowsVersion(t *testing.T) {
	defer func(v string) { OskVersion = v }(OskVersion)
	OskVersion = "v1.2.3"
	if got := DefaultImages(releaseForTest(t))["osk"]; got != "ghcr.io/oskproject/osk:v1.2.3" {
		t.Errorf("osk image = %s, want ghcr.io/oskproject/osk:v1.2.3", got)
	}
	for name, ref := range DefaultImages(releaseForTest(t)) {
		if strings.Contains(ref, ":latest") {
			t.Errorf("image %s is %s: a moving tag", name, ref)
		}
	}
}

// TestResourcesForEveryProfile checks each resource class has requests
// and a memory limit, and that the fixed classes do not grow with size.
func TestResourcesForEveryProfile(t *testing.T) {
	for p := range resources {
		r := ResourcesFor(p, v1.SizeMedium)
		if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
			t.Errorf("%s: %+v, want CPU and memory requests and a memory limit", p, r)
		}
	}
	small, medium := ResourcesFor(ProfileInit, v1.SizeSingle), ResourcesFor(ProfileInit, v1.SizeMedium)
	if !small.Requests.Memory().Equal(*medium.Requests.Memory()) {
		t.Errorf("init containers grow with size: %v, %v", small.Requests, medium.Requests)
	}
	if empty := ResourcesFor("", v1.SizeSingle); empty.Requests.Cpu().IsZero() {
		t.Error("the empty profile has no requests")
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// releaseForTest is a release whose images the tests look at.
func releaseForTest(t *testing.T) release.Release {
	t.Helper()
	r, err := release.Lookup("caracal")
	if err != nil {
		t.Fatal(err)
	}
	return r
}
