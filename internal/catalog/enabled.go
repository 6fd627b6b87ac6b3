package catalog

import (
	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/release"
)

// RequestedServices returns the user services a spec asks for: the
// preset's and the spec's, expanded through groups, without the disabled
// ones and those its release does not have.
func (cat *Catalog) RequestedServices(spec *v1.OpenStackDeploymentSpec) map[string]bool {
	on := map[string]bool{}
	groups := cat.Groups()
	add := func(names []string, value bool) {
		for _, n := range names {
			members, isGroup := groups[n]
			if !isGroup {
				members = []string{n}
			}
			for _, m := range members {
				if s, ok := cat.Get(m); ok && Available(s.Releases, spec.OpenStackVersion) {
					on[m] = value
				}
			}
		}
	}
	add(PresetServices(spec.Preset), true)
	add(spec.Features.Services, true)
	add(spec.Features.DisabledServices, false)
	for n, v := range on {
		if !v {
			delete(on, n)
		}
	}
	return on
}

// EnabledServices returns the services a deployment runs: the requested
// ones and every infrastructure service they need.
func (cat *Catalog) EnabledServices(spec *v1.OpenStackDeploymentSpec, ctx *Context) map[string]bool {
	on := cat.RequestedServices(spec)
	// Close over dependencies, then infrastructure that enables itself.
	for changed := true; changed; {
		changed = false
		for _, n := range cat.Names() {
			s, _ := cat.Get(n)
			if !on[n] && s.Infrastructure && s.Enabled != nil && s.Enabled(withEnabled(ctx, on)) {
				on[n], changed = true, true
			}
			if !on[n] {
				continue
			}
			for _, dep := range s.Needs() {
				if !on[dep] {
					on[dep], changed = true, true
				}
			}
		}
	}
	return on
}

func withEnabled(ctx *Context, on map[string]bool) *Context {
	c := *ctx
	c.Enabled = func(s string) bool { return on[s] }
	return &c
}

// Available reports whether something limited to a release range exists
// in a release.
func Available(r *ReleaseRange, rel string) bool {
	if r == nil {
		return true
	}
	if r.Since != "" && (release.Index(r.Since) < 0 || !release.AtLeast(rel, r.Since)) {
		return false
	}
	if r.Until != "" && (release.Index(r.Until) < 0 || !release.AtLeast(r.Until, rel)) {
		return false
	}
	return true
}

// Needs returns every service that must be ready before this one: its
// dependencies, the database when it has databases, and messaging when it
// uses a bus.
func (s *Service) Needs() []string {
	needs := append([]string(nil), s.DependsOn...)
	if len(s.Databases) > 0 && s.Name != "database" {
		needs = append(needs, "database")
	}
	if s.Messaging {
		needs = append(needs, "messaging")
	}
	return needs
}
