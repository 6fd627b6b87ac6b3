package validation

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cephkeys"
)

// failureDomains are the CRUSH bucket types a pool may spread over.
var failureDomains = []string{"host", "osd", "rack", "row", "room", "datacenter", "zone"}

// capDaemons are the daemon types a Ceph user's caps name.
var capDaemons = []string{"mds", "mgr", "mon", "osd"}

// ValidateCephDeployment checks a CephDeployment's spec; empty fields
// stand for their defaults. It never panics, whatever the input.
func ValidateCephDeployment(d *v1.CephDeployment) field.ErrorList {
	p := field.NewPath("spec")
	s := &d.Spec
	var errs field.ErrorList
	if s.OpenStackNamespace != "" {
		errs = append(errs, dnsLabel(p.Child("openstackNamespace"), s.OpenStackNamespace)...)
	}
	if s.KeysSecret != "" {
		errs = append(errs, dnsLabel(p.Child("keysSecret"), s.KeysSecret)...)
	}
	if strings.ContainsAny(s.Image, " \t\n") {
		errs = append(errs, field.Invalid(p.Child("image"), s.Image, "must be an image reference"))
	}
	errs = append(errs, cidr(p.Child("network", "public"), s.Network.Public)...)
	errs = append(errs, cidr(p.Child("network", "cluster"), s.Network.Cluster)...)
	errs = append(errs, cephNodes(s, p.Child("nodes"))...)
	errs = append(errs, cephPools(s.Pools, p.Child("pools"))...)
	if s.ObjectStore != nil {
		errs = append(errs, objectStore(s.ObjectStore, p.Child("objectStore"))...)
	}
	return append(errs, extraClients(s.Clients, p.Child("clients"))...)
}

func cidr(p *field.Path, v string) field.ErrorList {
	if v == "" {
		return nil
	}
	if _, _, err := net.ParseCIDR(v); err != nil {
		return field.ErrorList{field.Invalid(p, v, "must be a CIDR, for example 10.10.0.0/24")}
	}
	return nil
}

// cephNodes checks each node entry, and that some entry runs each daemon
// the cluster needs.
func cephNodes(s *v1.CephDeploymentSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	roles := map[v1.CephRole]bool{}
	for i, n := range s.Nodes {
		errs = append(errs, cephNode(n, p.Index(i))...)
		for _, r := range n.Roles {
			roles[r] = true
		}
	}
	need := []v1.CephRole{v1.CephRoleMon, v1.CephRoleMgr, v1.CephRoleOSD}
	if s.ObjectStore != nil {
		need = append(need, v1.CephRoleRGW)
	}
	for _, r := range need {
		if !roles[r] {
			errs = append(errs, field.Required(p, fmt.Sprintf("a node with the %s role", r)))
		}
	}
	return errs
}

func cephNode(n v1.CephNode, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case (n.Name == "") == (n.Selector == nil):
		errs = append(errs, field.Invalid(p, n.Name, "must set exactly one of name and selector"))
	case n.Selector != nil:
		errs = append(errs, metav1validation.ValidateLabelSelector(n.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	if len(n.Roles) == 0 {
		errs = append(errs, field.Required(p.Child("roles"), "at least one of mon, mgr, osd, rgw"))
	}
	seen := map[v1.CephRole]bool{}
	for i, r := range n.Roles {
		if !oneOf(string(r), "mon", "mgr", "osd", "rgw") {
			errs = append(errs, field.NotSupported(p.Child("roles").Index(i), r, []string{"mon", "mgr", "osd", "rgw"}))
		}
		if seen[r] {
			errs = append(errs, field.Duplicate(p.Child("roles").Index(i), r))
		}
		seen[r] = true
	}
	return append(errs, devices(n.Devices, seen[v1.CephRoleOSD], p.Child("devices"))...)
}

func devices(d v1.CephDevices, osd bool, p *field.Path) field.ErrorList {
	some := d.AllFree || len(d.Names) > 0 || len(d.Paths) > 0
	switch {
	case osd && !some:
		return field.ErrorList{field.Required(p, "names, paths or allFree: the disks the node's OSDs use")}
	case !osd && some:
		return field.ErrorList{field.Invalid(p, "", "only a node with the osd role has devices")}
	}
	var errs field.ErrorList
	for i, n := range d.Names {
		if n == "" || strings.ContainsAny(n, "/ \t\n") {
			errs = append(errs, field.Invalid(p.Child("names").Index(i), n, "must be a device name under /dev, for example sdb"))
		}
	}
	for i, path := range d.Paths {
		if !strings.HasPrefix(path, "/dev/") || strings.ContainsAny(path, " \t\n") {
			errs = append(errs, field.Invalid(p.Child("paths").Index(i), path, "must be a device path under /dev/"))
		}
	}
	if d.DeviceClass != "" {
		errs = append(errs, dnsLabel(p.Child("deviceClass"), d.DeviceClass)...)
	}
	return errs
}

// cephPools checks each pool, and that no role or name is used twice.
func cephPools(pools []v1.CephPool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	roles, names := map[v1.CephPoolRole]bool{}, map[string]bool{}
	for i, pool := range pools {
		pp := p.Index(i)
		name := pool.Name
		if name == "" {
			name = string(pool.Role)
		}
		switch {
		case pool.Role != "" && !slices.Contains(cephkeys.Roles, string(pool.Role)):
			errs = append(errs, field.NotSupported(pp.Child("role"), pool.Role, cephkeys.Roles))
		case pool.Role != "" && roles[pool.Role]:
			errs = append(errs, field.Duplicate(pp.Child("role"), pool.Role))
		case name == "":
			errs = append(errs, field.Required(pp.Child("name"), "a pool without a role needs a name"))
		}
		roles[pool.Role] = true
		if name != "" {
			errs = append(errs, dnsLabel(pp.Child("name"), name)...)
			if names[name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), name))
			}
			names[name] = true
		}
		errs = append(errs, layout(pool.CephPoolLayout, pool.Role == "", pp)...)
		if r := pool.TargetSizeRatio; r != "" {
			if f, err := strconv.ParseFloat(r, 64); err != nil || f <= 0 {
				errs = append(errs, field.Invalid(pp.Child("targetSizeRatio"), r, "must be a positive decimal, for example 0.4"))
			}
		}
	}
	return errs
}

// layout checks how a pool keeps its data; ecAllowed is false for the
// pools that must be replicated.
func layout(l v1.CephPoolLayout, ecAllowed bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if l.Replicas < 0 || l.Replicas > 7 {
		errs = append(errs, field.Invalid(p.Child("replicas"), l.Replicas, "must be 1 to 7"))
	}
	if ec := l.ErasureCoded; ec != nil {
		switch {
		case !ecAllowed:
			errs = append(errs, field.Forbidden(p.Child("erasureCoded"), "RBD images, gnocchi's metrics and the object store's metadata need a replicated pool"))
		case l.Replicas != 0:
			errs = append(errs, field.Invalid(p.Child("replicas"), l.Replicas, "must be unset with erasureCoded"))
		case ec.DataChunks < 2 || ec.CodingChunks < 1:
			errs = append(errs, field.Invalid(p.Child("erasureCoded"), fmt.Sprintf("%d+%d", ec.DataChunks, ec.CodingChunks),
				"needs at least 2 data chunks and 1 coding chunk"))
		}
	}
	if l.FailureDomain != "" && !slices.Contains(failureDomains, l.FailureDomain) {
		errs = append(errs, field.NotSupported(p.Child("failureDomain"), l.FailureDomain, failureDomains))
	}
	if l.DeviceClass != "" {
		errs = append(errs, dnsLabel(p.Child("deviceClass"), l.DeviceClass)...)
	}
	return errs
}

func objectStore(o *v1.CephObjectStoreSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if o.Name != "" {
		errs = append(errs, dnsLabel(p.Child("name"), o.Name)...)
	}
	if o.Port < 0 || o.Port > 65535 {
		errs = append(errs, field.Invalid(p.Child("port"), o.Port, "must be a port, 1 to 65535"))
	}
	errs = append(errs, layout(o.MetadataPool, false, p.Child("metadataPool"))...)
	errs = append(errs, layout(o.DataPool, true, p.Child("dataPool"))...)
	k := p.Child("keystone")
	if !strings.HasPrefix(o.Keystone.URL, "http://") && !strings.HasPrefix(o.Keystone.URL, "https://") {
		errs = append(errs, field.Invalid(k.Child("url"), o.Keystone.URL, "must be an http or https URL"))
	}
	if o.Keystone.ServiceUserSecret == "" {
		errs = append(errs, field.Required(k.Child("serviceUserSecret"), "the Secret holding the gateway's Keystone user"))
	} else {
		errs = append(errs, dnsLabel(k.Child("serviceUserSecret"), o.Keystone.ServiceUserSecret)...)
	}
	for i, r := range o.Keystone.AcceptedRoles {
		if strings.TrimSpace(r) == "" || strings.Contains(r, ",") {
			errs = append(errs, field.Invalid(k.Child("acceptedRoles").Index(i), r, "must be a Keystone role name"))
		}
	}
	return errs
}

// extraClients checks the users of one's own: names unique and not
// OpenStack's, caps on known daemon types.
func extraClients(cs []v1.CephExtraClient, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range cs {
		cp := p.Index(i)
		errs = append(errs, dnsLabel(cp.Child("name"), c.Name)...)
		switch {
		case slices.Contains(cephkeys.Clients, c.Name):
			errs = append(errs, field.Invalid(cp.Child("name"), c.Name, "is one of OpenStack's Ceph users, which osk makes itself"))
		case seen[c.Name]:
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		}
		seen[c.Name] = true
		if len(c.Caps) == 0 {
			errs = append(errs, field.Required(cp.Child("caps"), "at least one daemon type's caps"))
		}
		for _, daemon := range slices.Sorted(maps.Keys(c.Caps)) {
			caps := c.Caps[daemon]
			if !slices.Contains(capDaemons, daemon) {
				errs = append(errs, field.NotSupported(cp.Child("caps").Key(daemon), daemon, capDaemons))
			} else if strings.TrimSpace(caps) == "" {
				errs = append(errs, field.Required(cp.Child("caps").Key(daemon), "the caps, for example \"profile rbd\""))
			}
		}
	}
	return errs
}
