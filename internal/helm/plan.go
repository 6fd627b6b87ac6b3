package helm

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Plan is a checked bundle: its releases in waves, each wave depending
// only on the waves before it.
type Plan struct {
	// Waves are the release names, dependencies first; the releases of a
	// wave are independent of each other.
	Waves [][]string
	// Releases are the bundle's releases by name.
	Releases map[string]v1.HelmRelease
	// Repositories are the bundle's repositories by name.
	Repositories map[string]v1.HelmRepository
	// ServiceAccount is the ServiceAccount Helm acts as, osk itself when
	// empty.
	ServiceAccount string
}

// NewPlan checks what can be checked of a bundle without the network
// (repository names, dependency names, cycles) and orders its releases.
func NewPlan(spec v1.HelmBundleSpec) (*Plan, error) {
	p := &Plan{Releases: map[string]v1.HelmRelease{}, Repositories: map[string]v1.HelmRepository{}, ServiceAccount: spec.ServiceAccountName}
	for _, r := range spec.Repositories {
		p.Repositories[r.Name] = r
	}
	for _, r := range spec.Releases {
		if _, dup := p.Releases[r.Name]; dup {
			return nil, fmt.Errorf("release %s: listed twice", r.Name)
		}
		p.Releases[r.Name] = r
	}
	for _, r := range spec.Releases {
		if err := p.check(r); err != nil {
			return nil, fmt.Errorf("release %s: %w", r.Name, err)
		}
	}
	waves, err := order(p.Releases)
	if err != nil {
		return nil, err
	}
	p.Waves = waves
	return p, nil
}

func (p *Plan) check(r v1.HelmRelease) error {
	repo, _, _ := strings.Cut(r.Chart, "/")
	if _, ok := p.Repositories[repo]; !ok {
		return fmt.Errorf("chart %s: unknown repository %q", r.Chart, repo)
	}
	for _, d := range r.DependsOn {
		if _, ok := p.Releases[d]; !ok {
			return fmt.Errorf("depends on %q, which is not a release of the bundle", d)
		}
	}
	return nil
}

// order sorts releases into waves (Kahn's algorithm, names sorted within a
// wave) and reports a dependency cycle by its members.
func order(rs map[string]v1.HelmRelease) ([][]string, error) {
	placed := map[string]bool{}
	var waves [][]string
	for len(placed) < len(rs) {
		var wave []string
		for name, r := range rs {
			if !placed[name] && all(r.DependsOn, placed) {
				wave = append(wave, name)
			}
		}
		if len(wave) == 0 {
			return nil, fmt.Errorf("dependency cycle between releases %s", strings.Join(unplaced(rs, placed), ", "))
		}
		slices.Sort(wave)
		for _, n := range wave {
			placed[n] = true
		}
		waves = append(waves, wave)
	}
	return waves, nil
}

func all(names []string, set map[string]bool) bool {
	for _, n := range names {
		if !set[n] {
			return false
		}
	}
	return true
}

func unplaced(rs map[string]v1.HelmRelease, placed map[string]bool) []string {
	var out []string
	for n := range rs {
		if !placed[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// ChartRef splits a release's chart into its repository and chart name.
func ChartRef(chart string) (repo, name string) {
	repo, name, _ = strings.Cut(chart, "/")
	return repo, name
}
