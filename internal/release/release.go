// Package release is osk's table of the OpenStack releases it supports,
// oldest to newest, with what differs between them.
package release

import (
	"fmt"
	"strings"
)

// Release is one OpenStack release.
type Release struct {
	// Name is the code name, as written in the spec (for example "caracal").
	Name string
	// Number is the year-based version (for example "2024.1").
	Number string
	// SLURP is true for releases that can be upgraded to directly from the
	// previous SLURP release, skipping the one between.
	SLURP bool
	// ImageTag is the tag of the OpenStack-Helm community images.
	ImageTag string
}

// all lists the supported releases, oldest first.
var all = []Release{
	{Name: "zed", Number: "2022.2", ImageTag: "zed-ubuntu_jammy"},
	{Name: "antelope", Number: "2023.1", SLURP: true, ImageTag: "2023.1-ubuntu_jammy"},
	{Name: "bobcat", Number: "2023.2", ImageTag: "2023.2-ubuntu_jammy"},
	{Name: "caracal", Number: "2024.1", SLURP: true, ImageTag: "2024.1-ubuntu_jammy"},
	{Name: "dalmatian", Number: "2024.2", ImageTag: "2024.2-ubuntu_jammy"},
	{Name: "epoxy", Number: "2025.1", SLURP: true, ImageTag: "2025.1-ubuntu_noble"},
	{Name: "flamingo", Number: "2025.2", ImageTag: "2025.2-ubuntu_noble"},
	{Name: "gazpacho", Number: "2026.1", SLURP: true, ImageTag: "2026.1-ubuntu_noble"},
}

// All returns the supported releases, oldest first.
func All() []Release { return append([]Release(nil), all...) }

// Names returns the supported release names, oldest first.
func Names() []string {
	names := make([]string, len(all))
	for i, r := range all {
		names[i] = r.Name
	}
	return names
}

// Lookup returns the release with the given code name.
func Lookup(name string) (Release, error) {
	if i := Index(name); i >= 0 {
		return all[i], nil
	}
	return Release{}, fmt.Errorf("unknown OpenStack release %q (supported: %s)", name, strings.Join(Names(), ", "))
}

// Index returns the position of a release from the oldest (0), or -1 when
// the release is not supported.
func Index(name string) int {
	for i, r := range all {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// AtLeast reports whether release a is b or newer. Both must be known.
func AtLeast(a, b string) bool { return Index(a) >= Index(b) }
