package helm

import (
	"reflect"
	"strings"
	"testing"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

func bundle(rels ...v1.HelmRelease) v1.HelmBundleSpec {
	return v1.HelmBundleSpec{Repositories: []v1.HelmRepository{{Name: "r", URL: "http://127.0.0.1/"}}, Releases: rels}
}

func rel(name string, deps ...string) v1.HelmRelease {
	return v1.HelmRelease{Name: name, Chart: "r/c", DependsOn: deps}
}

func TestNewPlanOrdersInWaves(t *testing.T) {
	p, err := NewPlan(bundle(rel("app", "db", "cache"), rel("db"), rel("cache"), rel("ui", "app")))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"cache", "db"}, {"app"}, {"ui"}}
	if !reflect.DeepEqual(p.Waves, want) {
		t.Errorf("waves = %v, want %v", p.Waves, want)
	}
}

func TestNewPlanRejects(t *testing.T) {
	unknownRepo := rel("a")
	unknownRepo.Chart = "nope/c"
	for _, tc := range []struct {
		name string
		spec v1.HelmBundleSpec
		want string
	}{
		{"unknown repository", bundle(unknownRepo), `release a: chart nope/c: unknown repository "nope"`},
		{"unknown dependency", bundle(rel("a", "b")), `release a: depends on "b", which is not a release of the bundle`},
		{"cycle", bundle(rel("a", "c"), rel("b", "a"), rel("c", "b"), rel("d")), "dependency cycle between releases a, b, c"},
		{"duplicate", bundle(rel("a"), rel("a")), "release a: listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPlan(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
