package validation

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	apivalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
)

// validateOverrides checks spec.services: known services, components and
// files, sensible replicas and resources.
func validateOverrides(cat *catalog.Catalog, s *v1.OpenStackDeploymentSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(s.Services) {
		o := s.Services[name]
		sp := p.Key(name)
		svc, ok := cat.Get(name)
		if !ok {
			errs = append(errs, field.NotSupported(sp, name, cat.Names()))
			continue
		}
		errs = append(errs, configFiles(svc, o.Config, sp.Child("config"))...)
		for _, cname := range sortedKeys(o.Components) {
			errs = append(errs, component(svc, cname, o.Components[cname], sp.Child("components").Key(cname))...)
		}
	}
	return errs
}

func component(svc *catalog.Service, name string, o v1.ComponentOverride, p *field.Path) field.ErrorList {
	c, ok := svc.Component(name)
	if !ok && svc.Name == "messaging" {
		c, ok = &svc.Components[0], true // one component per bus, named after it
	}
	if !ok {
		return field.ErrorList{field.NotSupported(p, name, componentNames(svc))}
	}
	var errs field.ErrorList
	if r := o.Replicas; r != nil {
		switch {
		case *r < 0:
			errs = append(errs, field.Invalid(p.Child("replicas"), *r, "must be 0 or more"))
		case c.Kind == catalog.DaemonSet:
			errs = append(errs, field.Forbidden(p.Child("replicas"), fmt.Sprintf("%s runs on every node labelled %s=enabled; label nodes to scale it", name, c.Role)))
		}
	}
	if r := o.Resources; r != nil {
		errs = append(errs, resources(*r, p.Child("resources"))...)
	}
	if m := o.MaxUnavailable; m != nil {
		errs = append(errs, maxUnavailable(c, *m, p.Child("maxUnavailable"))...)
	}
	return append(errs, configFiles(svc, o.Config, p.Child("config"))...)
}

// maxUnavailable checks a rollout's pace: only for components on every
// labelled node, at least one node, at most every node.
func maxUnavailable(c *catalog.Component, m intstr.IntOrString, p *field.Path) field.ErrorList {
	if c.Kind != catalog.DaemonSet {
		return field.ErrorList{field.Forbidden(p, fmt.Sprintf("%s has replicas, not a pod per node; only components on every labelled node take it", c.Name))}
	}
	if m.Type == intstr.Int {
		if m.IntVal < 1 {
			return field.ErrorList{field.Invalid(p, m.IntVal, "must be 1 or more")}
		}
		return nil
	}
	pct, ok := strings.CutSuffix(m.StrVal, "%")
	n, err := strconv.Atoi(pct)
	if !ok || err != nil || n < 1 || n > 100 {
		return field.ErrorList{field.Invalid(p, m.StrVal, "must be a number of nodes or a percentage from 1% to 100%")}
	}
	return nil
}

func resources(r corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range r.Requests {
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), q.String(), "must not be negative"))
		}
		if l, ok := r.Limits[name]; ok && q.Cmp(l) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), q.String(), "must not exceed the limit "+l.String()))
		}
	}
	return errs
}

// configFiles checks that overrides name files of the service and that
// sections and options are well formed.
func configFiles(svc *catalog.Service, files map[string]v1.OsloFile, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(files) {
		fp := p.Key(name)
		cf, ok := svc.File(name)
		if !ok || cf.Format == catalog.FormatRaw {
			errs = append(errs, field.NotSupported(fp, name, fileNames(svc)))
			continue
		}
		for _, section := range sortedKeys(files[name]) {
			if cf.Format != catalog.FormatFlat && (section == "" || strings.ContainsAny(section, "[]\n")) {
				errs = append(errs, field.Invalid(fp.Key(section), section, "must be a section name without brackets or new lines"))
			}
			for key, value := range files[name][section] {
				if key == "" || strings.ContainsAny(key, "=\n[]") {
					errs = append(errs, field.Invalid(fp.Key(section).Key(key), key, "must be an option name without '=', brackets or new lines"))
				}
				if strings.Contains(value, "\n") {
					errs = append(errs, field.Invalid(fp.Key(section).Key(key), value, "must be a single line"))
				}
			}
		}
	}
	return errs
}

// validateNodes checks spec.nodes: label::value keys, and overrides only
// for services with agents on nodes.
func validateNodes(cat *catalog.Catalog, s *v1.OpenStackDeploymentSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, key := range sortedKeys(s.Nodes) {
		np := p.Key(key)
		errs = append(errs, nodeKey(key, np)...)
		o := s.Nodes[key]
		if f := o.Features; f != nil {
			errs = append(errs, nodeFeatures(f, np.Child("features"))...)
		}
		for _, name := range sortedKeys(o.Services) {
			sp := np.Child("services").Key(name)
			svc, ok := cat.Get(name)
			if !ok {
				errs = append(errs, field.NotSupported(sp, name, cat.Names()))
				continue
			}
			if !hasAgents(svc) {
				errs = append(errs, field.Invalid(sp, name, name+" has no agents on nodes; node overrides apply to DaemonSets only"))
				continue
			}
			errs = append(errs, configFiles(svc, o.Services[name].Config, sp.Child("config"))...)
		}
	}
	return errs
}

func nodeKey(key string, p *field.Path) field.ErrorList {
	label, value, ok := strings.Cut(key, "::")
	if !ok {
		return field.ErrorList{field.Invalid(p, key, "must be <label>::<value>, for example openstack-compute-node::enabled")}
	}
	var errs field.ErrorList
	for _, msg := range apivalidation.IsQualifiedName(label) {
		errs = append(errs, field.Invalid(p, key, "label: "+msg))
	}
	for _, msg := range apivalidation.IsValidLabelValue(value) {
		errs = append(errs, field.Invalid(p, key, "value: "+msg))
	}
	return errs
}

func nodeFeatures(f *v1.NodeFeatures, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if n := f.Neutron; n != nil {
		if n.TunnelInterface != "" {
			errs = append(errs, iface(p.Child("neutron", "tunnelInterface"), n.TunnelInterface)...)
		}
		errs = append(errs, externalNetworks(n.ExternalNetworks, p.Child("neutron", "externalNetworks"))...)
	}
	if n := f.Nova; n != nil {
		if n.AllocationRatios != nil {
			errs = append(errs, ratios(*n.AllocationRatios, p.Child("nova", "allocationRatios"))...)
		}
		if n.LiveMigrationInterface != "" {
			errs = append(errs, iface(p.Child("nova", "liveMigrationInterface"), n.LiveMigrationInterface)...)
		}
		if n.ImagesBackend != "" && !oneOf(string(n.ImagesBackend), "local", "ceph") {
			errs = append(errs, field.NotSupported(p.Child("nova", "imagesBackend"), n.ImagesBackend, []string{"local", "ceph"}))
		}
	}
	return errs
}

func hasAgents(s *catalog.Service) bool {
	for _, c := range s.Components {
		if c.Kind == catalog.DaemonSet {
			return true
		}
	}
	return false
}

func componentNames(s *catalog.Service) []string {
	var out []string
	for _, c := range s.Components {
		out = append(out, c.Name)
	}
	return out
}

func fileNames(s *catalog.Service) []string {
	var out []string
	for _, f := range s.Config {
		if f.Format != catalog.FormatRaw {
			out = append(out, f.Name)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	set := map[string]bool{}
	for k := range m {
		set[k] = true
	}
	return sortedSet(set)
}
