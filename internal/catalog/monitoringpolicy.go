package catalog

import (
	"fmt"
	"strings"
)

// MonitoringRole is the Keystone role that lets osk exporter read the
// services' and agents' states and the cloud's capacity: each service's
// policy file (MonitoringPolicyFile) allows it the rules the exporter
// reads, and nothing else.
const MonitoringRole = "osk-monitoring"

// MonitoringPolicyFile is the oslo.policy file osk renders beside a
// service's main file, where oslo.policy's default policy_file is found.
const MonitoringPolicyFile = "policy.yaml"

// PolicyRule is one oslo.policy rule osk exporter needs and the
// service's default check of it.
type PolicyRule struct {
	// Name is the rule ("os_compute_api:os-services:list").
	Name string
	// Default is the service's own default check string.
	Default string
}

// MonitoringPolicy is what the exporter reads of one service's API.
type MonitoringPolicy struct {
	// Service is the catalog service, Component the one that enforces
	// the policy (its API).
	Service, Component string
	// Rules are the rules of the reads, by release: their defaults
	// change between releases, and osk allows the role only where it
	// knows the release's defaults (taken from that release's code).
	Rules map[string][]PolicyRule
}

// MonitoringPolicies are the reads of osk exporter that the services'
// default policies refuse a reader: nova's services and hypervisors,
// neutron's agents, cinder's services, placement's providers with their
// inventories and usages. The Zed defaults are those of Debian bookworm's
// Zed packages (oslopolicy-sample-generator; test/monitoring compares
// them with the installed code).
var MonitoringPolicies = []MonitoringPolicy{
	{Service: "compute", Component: "api", Rules: map[string][]PolicyRule{"zed": {
		{"os_compute_api:os-services:list", "rule:context_is_admin"},
		{"os_compute_api:os-hypervisors:list", "rule:context_is_admin"},
		{"os_compute_api:os-hypervisors:list-detail", "rule:context_is_admin"},
	}}},
	{Service: "networking", Component: "server", Rules: map[string][]PolicyRule{"zed": {
		{"get_agent", "rule:admin_only"},
	}}},
	{Service: "block-storage", Component: "api", Rules: map[string][]PolicyRule{"zed": {
		{"volume_extension:services:index", "rule:admin_api"},
	}}},
	{Service: "placement", Component: "api", Rules: map[string][]PolicyRule{"zed": {
		{"placement:resource_providers:list", "rule:system_reader_api"},
		{"placement:resource_providers:inventories:list", "rule:system_reader_api"},
		{"placement:resource_providers:usages", "rule:system_reader_api"},
	}}},
}

// MonitoringCheck is a rule's check with the monitoring role allowed: the
// default, which still decides for everyone else, or the role.
func MonitoringCheck(r PolicyRule) string {
	return fmt.Sprintf("(%s) or role:%s", r.Default, MonitoringRole)
}

// withMonitoringPolicies gives each service of MonitoringPolicies its
// policy file, read by the component that enforces it, when StackLight is
// on and osk knows the release's defaults.
func withMonitoringPolicies(services []*Service) {
	for _, p := range MonitoringPolicies {
		for _, s := range services {
			c, ok := s.Component(p.Component)
			if s.Name != p.Service || !ok {
				continue
			}
			dir := "/etc/" + s.Project
			when := func(ctx *Context) bool {
				_, known := p.Rules[ctx.Release]
				return StackLightEnabled(ctx) && known
			}
			s.Config = append(s.Config, ConfigFile{
				Name: MonitoringPolicyFile, Dir: dir, Format: FormatRaw, When: when,
				Generate: func(ctx *Context) []byte { return policyFile(p.Rules[ctx.Release]) },
			})
			c.Reads = append(c.Reads, MonitoringPolicyFile)
			// Some services' policy_file default is still policy.json
			// (placement's, on Zed): the main file names it.
			features := s.Features
			s.Features = func(ctx *Context, f Files) {
				if features != nil {
					features(ctx, f)
				}
				if when(ctx) {
					f.Set(s.Project+".conf", "oslo_policy", "policy_file", dir+"/"+MonitoringPolicyFile)
				}
			}
		}
	}
}

// policyFile is an oslo.policy YAML file of the rules, each allowing the
// monitoring role besides its default.
func policyFile(rules []PolicyRule) []byte {
	var b strings.Builder
	b.WriteString("# osk: the reads of osk exporter, allowed to the role " + MonitoringRole + "\n" +
		"# besides each rule's default. Every other rule keeps its default.\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "%q: %q\n", r.Name, MonitoringCheck(r))
	}
	return []byte(b.String())
}
