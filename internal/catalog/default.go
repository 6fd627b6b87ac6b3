package catalog

import (
	"sync"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
)

// Default returns the catalog of every service osk supports.
func Default() *Catalog {
	defaultOnce.Do(func() {
		services := []*Service{
			database(), messaging(), memcached(), coordination(), ingress(), imagePrecaching(),
			openvswitch(), libvirt(), powerdns(), stacklight(),
			identity(), placement(), image(), networking(), compute(), blockStorage(), dashboard(),
			dns(), loadBalancer(), keyManager(), orchestration(), objectStorage(), instanceHA(), tempest(),
		}
		services = append(services, telemetry()...)
		withMonitoringPolicies(services)
		c, err := New(services...)
		if err != nil {
			panic(err) // a programming error in the catalog's own data
		}
		defaultCatalog = c
	})
	return defaultCatalog
}

// presets are the services each preset enables.
var presets = map[v1.Preset][]string{
	v1.PresetCore: {"identity", "image", "placement", "compute", "networking", "block-storage", "dashboard"},
	v1.PresetCompute: {"identity", "image", "placement", "compute", "networking", "block-storage", "dashboard",
		"dns", "load-balancer", "key-manager", "orchestration", "instance-ha"},
}

func init() { presets[v1.PresetComputeTF] = presets[v1.PresetCompute] }

// PresetServices returns the services a preset enables.
func PresetServices(p v1.Preset) []string { return append([]string(nil), presets[p]...) }

// Groups returns the spec-level names that enable several catalog
// services at once (telemetry), with their members.
func (c *Catalog) Groups() map[string][]string {
	groups := map[string][]string{}
	for _, n := range c.order {
		if g := c.services[n].PartOf; g != "" {
			groups[g] = append(groups[g], n)
		}
	}
	return groups
}
