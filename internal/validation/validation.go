// Package validation checks an OpenStackDeployment against osk's rules.
// Every problem names its field path and what is allowed. The CLI, the
// renderer and the admission webhook share it.
package validation

import (
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	apivalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/release"
)

// Validate checks a defaulted deployment. It never panics, whatever the
// input.
func Validate(d *v1.OpenStackDeployment) field.ErrorList {
	spec := field.NewPath("spec")
	s := &d.Spec
	cat := catalog.Default()
	errs := validateBasics(s, spec)
	errs = append(errs, validateServices(cat, s, spec.Child("features"))...)
	errs = append(errs, validateFeatures(s, spec.Child("features"))...)
	errs = append(errs, validateOverrides(cat, s, spec.Child("services"))...)
	errs = append(errs, validateNodes(cat, s, spec.Child("nodes"))...)
	return errs
}

func validateBasics(s *v1.OpenStackDeploymentSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if release.Index(s.OpenStackVersion) < 0 {
		errs = append(errs, field.NotSupported(p.Child("openstackVersion"), s.OpenStackVersion, release.Names()))
	}
	if !oneOf(string(s.Preset), "core", "compute", "compute-tf") {
		errs = append(errs, field.NotSupported(p.Child("preset"), s.Preset, []string{"core", "compute", "compute-tf"}))
	}
	if !oneOf(string(s.Size), "single", "tiny", "small", "medium") {
		errs = append(errs, field.NotSupported(p.Child("size"), s.Size, []string{"single", "tiny", "small", "medium"}))
	}
	errs = append(errs, dnsName(p.Child("publicDomainName"), s.PublicDomainName)...)
	errs = append(errs, dnsName(p.Child("internalDomainName"), s.InternalDomainName)...)
	if s.Region == "" {
		errs = append(errs, field.Required(p.Child("region"), "a Keystone region name"))
	}
	for name, ref := range s.Images.Overrides {
		if strings.TrimSpace(ref) == "" || strings.ContainsAny(ref, " \t\n") {
			errs = append(errs, field.Invalid(p.Child("images", "overrides").Key(name), ref, "must be an image reference"))
		}
	}
	return errs
}

func dnsName(p *field.Path, v string) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "a DNS domain, for example cloud.example.com")}
	}
	var errs field.ErrorList
	for _, msg := range apivalidation.IsDNS1123Subdomain(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

// validateServices checks the enabled and disabled services, and that
// every enabled service has what it needs.
func validateServices(cat *catalog.Catalog, s *v1.OpenStackDeploymentSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	known := knownServiceNames(cat)
	for _, list := range []struct {
		name  string
		items []string
	}{{"services", s.Features.Services}, {"disabledServices", s.Features.DisabledServices}} {
		for i, n := range list.items {
			if !known[n] {
				errs = append(errs, field.NotSupported(p.Child(list.name).Index(i), n, sortedSet(known)))
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}

	requested := cat.RequestedServices(s)
	for _, n := range sortedSet(requested) {
		svc, _ := cat.Get(n)
		if !catalog.Available(svc.Releases, s.OpenStackVersion) {
			errs = append(errs, field.Invalid(p.Child("services"), n,
				fmt.Sprintf("%s is not available in %s", n, s.OpenStackVersion)))
			continue
		}
		var missing []string
		for _, dep := range svc.DependsOn {
			if d, _ := cat.Get(dep); !d.Infrastructure && !requested[dep] {
				missing = append(missing, dep)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, field.Invalid(p.Child("services"), n,
				fmt.Sprintf("%s requires %s to be enabled too", n, strings.Join(missing, ", "))))
		}
	}

	return errs
}

// knownServiceNames are the names the spec may use in features.services:
// user services and groups.
func knownServiceNames(cat *catalog.Catalog) map[string]bool {
	known := map[string]bool{}
	for _, n := range cat.UserServices() {
		if s, _ := cat.Get(n); s.PartOf == "" {
			known[n] = true
		}
	}
	for g := range cat.Groups() {
		known[g] = true
	}
	return known
}

var (
	vlanRange = regexp.MustCompile(`^\d{1,4}:\d{1,4}$`)
	ifaceName = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,15}$`)
	cronField = regexp.MustCompile(`^[0-9*/,\-A-Za-z?]+$`)
)

func validateFeatures(s *v1.OpenStackDeploymentSpec, p *field.Path) field.ErrorList {
	f := s.Features
	var errs field.ErrorList
	errs = append(errs, validateNeutron(f.Neutron, s.Preset, p.Child("neutron"))...)
	errs = append(errs, validateNova(f.Nova, p.Child("nova"))...)
	if tls := f.SSL.PublicEndpoints; tls != nil {
		tp := p.Child("ssl", "publicEndpoints")
		for name, ref := range map[string]struct{ n, k string }{"caCert": {tls.CACert.Name, tls.CACert.Key}, "apiCert": {tls.APICert.Name, tls.APICert.Key}, "apiKey": {tls.APIKey.Name, tls.APIKey.Key}} {
			if ref.n == "" || ref.k == "" {
				errs = append(errs, field.Required(tp.Child(name), "a Secret name and key"))
			}
		}
	}
	bp := p.Child("database", "backup")
	errs = append(errs, cron(bp.Child("fullSchedule"), f.Database.Backup.FullSchedule)...)
	errs = append(errs, cron(bp.Child("incrementalSchedule"), f.Database.Backup.IncrementalSchedule)...)
	errs = append(errs, quantity(bp.Child("size"), f.Database.Backup.Size)...)
	if f.Database.Backup.Keep < 1 {
		errs = append(errs, field.Invalid(bp.Child("keep"), f.Database.Backup.Keep, "must keep at least 1 backup"))
	}
	kp := p.Child("keystone")
	for name, r := range map[string]v1.KeyRotation{"fernetRotation": f.Keystone.FernetRotation, "credentialRotation": f.Keystone.CredentialRotation} {
		errs = append(errs, cron(kp.Child(name, "schedule"), r.Schedule)...)
		if r.MaxActiveKeys < 3 {
			errs = append(errs, field.Invalid(kp.Child(name, "maxActiveKeys"), r.MaxActiveKeys, "must be at least 3 (staged, primary and one secondary key)"))
		}
	}
	if f.Keystone.TokenExpiration < 60 {
		errs = append(errs, field.Invalid(kp.Child("tokenExpiration"), f.Keystone.TokenExpiration, "must be at least 60 seconds"))
	}
	errs = append(errs, quantity(p.Child("glance", "size"), f.Glance.Size)...)
	if f.Glance.Backend != v1.StoreCeph && f.Glance.Backend != v1.StoreFile {
		errs = append(errs, field.NotSupported(p.Child("glance", "backend"), f.Glance.Backend, []string{"ceph", "file"}))
	}
	if f.Cinder.Backend != v1.StoreCeph {
		errs = append(errs, field.NotSupported(p.Child("cinder", "backend"), f.Cinder.Backend, []string{"ceph"}))
	}
	if f.Telemetry.Interval < 10 {
		errs = append(errs, field.Invalid(p.Child("telemetry", "interval"), f.Telemetry.Interval, "must be at least 10 seconds"))
	}
	if f.Tempest.Concurrency < 0 {
		errs = append(errs, field.Invalid(p.Child("tempest", "concurrency"), f.Tempest.Concurrency, "must be 0 (one worker per CPU) or more"))
	}
	errs = append(errs, validateStackLight(f.StackLight, p.Child("stacklight"))...)
	errs = append(errs, validateNodeAgents(f.NodeAgents, p.Child("nodeAgents"))...)
	return append(errs, validateGlanceReplicas(s, p)...)
}

// validateStackLight checks StackLight's settings when it is on
// (defaulted: every threshold set).
func validateStackLight(l v1.StackLightFeatures, p *field.Path) field.ErrorList {
	if !l.Enabled {
		return nil
	}
	errs := dnsLabel(p.Child("namespace"), l.Namespace)
	errs = append(errs, metav1validation.ValidateLabels(l.Labels, p.Child("labels"))...)
	if len(l.Labels) == 0 {
		errs = append(errs, field.Required(p.Child("labels"), "at least one label for the stack's selectors to match"))
	}
	tp := p.Child("thresholds")
	t := l.Thresholds
	for _, th := range []struct {
		name string
		v    int32
	}{
		{"apiLatencyMilliseconds", t.APILatencyMilliseconds}, {"api5xxPercent", t.API5xxPercent},
		{"notificationsBacklog", t.NotificationsBacklog}, {"backupMaxAgeHours", t.BackupMaxAgeHours},
		{"upgradeStepTimeoutMinutes", t.UpgradeStepTimeoutMinutes}, {"certificateWarningDays", t.CertificateWarningDays},
		{"certificateCriticalDays", t.CertificateCriticalDays},
	} {
		if th.v < 1 {
			errs = append(errs, field.Invalid(tp.Child(th.name), th.v, "must be at least 1"))
		}
	}
	if t.API5xxPercent > 100 {
		errs = append(errs, field.Invalid(tp.Child("api5xxPercent"), t.API5xxPercent, "must be a percentage, at most 100"))
	}
	if t.CertificateCriticalDays >= t.CertificateWarningDays {
		errs = append(errs, field.Invalid(tp.Child("certificateCriticalDays"), t.CertificateCriticalDays, "must be below certificateWarningDays"))
	}
	return append(errs, validateLogs(l.Logs, p.Child("logs"))...)
}

func dnsLabel(p *field.Path, v string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range apivalidation.IsDNS1123Label(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

// validateGlanceReplicas refuses a file store shared by several API pods:
// each would see only the images uploaded to it.
func validateGlanceReplicas(s *v1.OpenStackDeploymentSpec, p *field.Path) field.ErrorList {
	if s.Features.Glance.Backend != v1.StoreFile {
		return nil
	}
	svc, _ := catalog.Default().Get("image")
	api, _ := svc.Component("api")
	n := api.ReplicasFor(s.Size)
	if r := s.Services["image"].Components["api"].Replicas; r != nil {
		n = *r
	}
	if n > 1 {
		return field.ErrorList{field.Invalid(p.Child("glance", "backend"), "file",
			fmt.Sprintf("the file store lives on one volume and needs exactly 1 image api replica (size %s runs %d); use ceph or set spec.services.image.components.api.replicas to 1", s.Size, n))}
	}
	return nil
}

func validateNeutron(n v1.NeutronFeatures, preset v1.Preset, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !oneOf(string(n.Backend), "ml2/ovs", "ovn", "tungstenfabric") {
		errs = append(errs, field.NotSupported(p.Child("backend"), n.Backend, []string{"ml2/ovs", "ovn", "tungstenfabric"}))
	}
	if preset == v1.PresetComputeTF && n.Backend != v1.NeutronTungstenFabric {
		errs = append(errs, field.Invalid(p.Child("backend"), n.Backend, "the compute-tf preset runs Tungsten Fabric; use preset compute for other backends"))
	}
	if n.DVR && n.Backend != v1.NeutronML2OVS {
		errs = append(errs, field.Invalid(p.Child("dvr"), true, "distributed routing is configured this way only with the ml2/ovs backend (OVN distributes routing itself)"))
	}
	if !oneOf(string(n.OVSDatapath), "system", "netdev") {
		errs = append(errs, field.NotSupported(p.Child("ovsDatapath"), n.OVSDatapath, []string{"system", "netdev"}))
	}
	if n.OVSDatapath == v1.OVSDatapathNetdev && n.Backend == v1.NeutronTungstenFabric {
		errs = append(errs, field.Invalid(p.Child("ovsDatapath"), n.OVSDatapath, "Tungsten Fabric runs no Open vSwitch; the datapath applies to ml2/ovs and ovn"))
	}
	errs = append(errs, iface(p.Child("tunnelInterface"), n.TunnelInterface)...)
	errs = append(errs, externalNetworks(n.ExternalNetworks, p.Child("externalNetworks"))...)
	if fn := n.FloatingNetwork; fn != nil {
		errs = append(errs, floatingNetwork(fn, n.ExternalNetworks, p.Child("floatingNetwork"))...)
	}
	return errs
}

func externalNetworks(nets []v1.ExternalNetwork, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, n := range nets {
		np := p.Index(i)
		if n.Physnet == "" {
			errs = append(errs, field.Required(np.Child("physnet"), "a physical network name"))
		} else if seen[n.Physnet] {
			errs = append(errs, field.Duplicate(np.Child("physnet"), n.Physnet))
		}
		seen[n.Physnet] = true
		errs = append(errs, iface(np.Child("interface"), n.Interface)...)
		if n.VLANRanges != "" && !validVLANRange(n.VLANRanges) {
			errs = append(errs, field.Invalid(np.Child("vlanRanges"), n.VLANRanges, "must be FIRST:LAST with 1 <= FIRST <= LAST <= 4094"))
		}
		for j, t := range n.NetworkTypes {
			if !oneOf(t, "flat", "vlan") {
				errs = append(errs, field.NotSupported(np.Child("networkTypes").Index(j), t, []string{"flat", "vlan"}))
			}
		}
		if n.MTU != 0 && (n.MTU < 576 || n.MTU > 9216) {
			errs = append(errs, field.Invalid(np.Child("mtu"), n.MTU, "must be between 576 and 9216"))
		}
	}
	return errs
}

func validVLANRange(r string) bool {
	if !vlanRange.MatchString(r) {
		return false
	}
	a, b, _ := strings.Cut(r, ":")
	lo, _ := strconv.Atoi(a)
	hi, _ := strconv.Atoi(b)
	return lo >= 1 && lo <= hi && hi <= 4094
}

func floatingNetwork(fn *v1.FloatingNetwork, nets []v1.ExternalNetwork, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	found := false
	for _, n := range nets {
		found = found || n.Physnet == fn.Physnet
	}
	if !found {
		errs = append(errs, field.Invalid(p.Child("physnet"), fn.Physnet, "must be one of spec.features.neutron.externalNetworks"))
	}
	sp := p.Child("subnet")
	_, cidr, err := net.ParseCIDR(fn.Subnet.Range)
	if err != nil {
		return append(errs, field.Invalid(sp.Child("range"), fn.Subnet.Range, "must be a CIDR, for example 10.11.12.0/24"))
	}
	for name, ip := range map[string]string{"gateway": fn.Subnet.Gateway, "poolStart": fn.Subnet.PoolStart, "poolEnd": fn.Subnet.PoolEnd} {
		if a := net.ParseIP(ip); a == nil || !cidr.Contains(a) {
			errs = append(errs, field.Invalid(sp.Child(name), ip, "must be an address in "+fn.Subnet.Range))
		}
	}
	return errs
}

func validateNova(n v1.NovaFeatures, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, ratios(n.AllocationRatios, p.Child("allocationRatios"))...)
	if n.LiveMigrationInterface != "" {
		errs = append(errs, iface(p.Child("liveMigrationInterface"), n.LiveMigrationInterface)...)
	}
	if !oneOf(string(n.ImagesBackend), "local", "ceph") {
		errs = append(errs, field.NotSupported(p.Child("imagesBackend"), n.ImagesBackend, []string{"local", "ceph"}))
	}
	if !oneOf(string(n.Console), "novnc", "spice", "serial", "none") {
		errs = append(errs, field.NotSupported(p.Child("console"), n.Console, []string{"novnc", "spice", "serial", "none"}))
	}
	if !oneOf(string(n.VirtType), "kvm", "qemu") {
		errs = append(errs, field.NotSupported(p.Child("virtType"), n.VirtType, []string{"kvm", "qemu"}))
	}
	return errs
}

func ratios(r v1.AllocationRatios, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, v := range map[string]string{"cpu": r.CPU, "ram": r.RAM, "disk": r.Disk} {
		if v == "" {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 || f > 1000 {
			errs = append(errs, field.Invalid(p.Child(name), v, "must be a positive decimal number, for example \"8.0\""))
		}
	}
	return errs
}

func iface(p *field.Path, v string) field.ErrorList {
	if !ifaceName.MatchString(v) {
		return field.ErrorList{field.Invalid(p, v, "must be a network interface name of 1 to 15 characters")}
	}
	return nil
}

func cron(p *field.Path, v string) field.ErrorList {
	fields := strings.Fields(v)
	ok := len(fields) == 5
	for _, f := range fields {
		ok = ok && cronField.MatchString(f)
	}
	if !ok {
		return field.ErrorList{field.Invalid(p, v, "must be a cron schedule of 5 fields, for example \"0 */12 * * *\"")}
	}
	return nil
}

func quantity(p *field.Path, v string) field.ErrorList {
	if q, err := resource.ParseQuantity(v); err != nil || q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(p, v, "must be a positive size, for example 20Gi")}
	}
	return nil
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
