package render

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/catalog"
)

// scratchPrefix names the emptyDirs mounted where an image writes.
const scratchPrefix = "scratch"

// runtime returns how a catalog image runs. The catalog has one for every
// image it names (its tests check); an unknown image gets uid 0, which a
// restricted container refuses to start with, so the gap cannot pass
// unnoticed.
func runtime(image string) catalog.Runtime {
	rt, _ := catalog.ImageRuntime(image)
	return rt
}

// secure gives a container the catalog's security: its image's user, or
// root where the catalog's privileges say so, no privilege escalation,
// every capability dropped but the named ones, a read-only root
// filesystem with an emptyDir on each directory its image writes, and
// the resources of its profile.
func (m *model) secure(ctr *corev1.Container, rt catalog.Runtime, p *catalog.Privileges, profile catalog.Profile) {
	ctr.SecurityContext = securityContext(rt, p)
	if ctr.Resources.Requests == nil {
		ctr.Resources = catalog.ResourcesFor(profile, m.d.Spec.Size)
	}
	if p != nil && p.WritableRoot {
		return
	}
	for _, dir := range rt.Writable {
		if !mounted(ctr.VolumeMounts, dir) {
			ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: scratchVolume(dir), MountPath: dir})
		}
	}
}

// securityContext is a container's security context.
func securityContext(rt catalog.Runtime, p *catalog.Privileges) *corev1.SecurityContext {
	if p == nil {
		p = &catalog.Privileges{}
	}
	sc := &corev1.SecurityContext{
		RunAsNonRoot:           ptr(true),
		RunAsUser:              ptr(rt.UID),
		RunAsGroup:             ptr(rt.GID),
		ReadOnlyRootFilesystem: ptr(!p.WritableRoot),
	}
	if p.RunsAsRoot() {
		sc.RunAsNonRoot, sc.RunAsUser, sc.RunAsGroup = ptr(false), ptr[int64](0), ptr[int64](0)
	}
	if p.Privileged {
		// A privileged container has every capability; the API refuses
		// allowPrivilegeEscalation false beside privileged.
		sc.Privileged, sc.AllowPrivilegeEscalation = ptr(true), ptr(true)
		return sc
	}
	sc.AllowPrivilegeEscalation = ptr(false)
	sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	for _, c := range p.Capabilities {
		sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(c))
	}
	return sc
}

// securePod sets what is the pod's: the runtime's default seccomp profile,
// the host's namespaces where the catalog allows them, the main image's
// group as fsGroup (so that its Secrets and claims are readable), and the
// emptyDirs its containers mount where they write.
func securePod(spec *corev1.PodSpec, main catalog.Runtime, p *catalog.Privileges) {
	spec.SecurityContext = &corev1.PodSecurityContext{
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if !p.RunsAsRoot() && main.GID != 0 {
		spec.SecurityContext.FSGroup = ptr(main.GID)
	}
	if p != nil {
		spec.HostNetwork, spec.HostPID = p.HostNetwork, p.HostPID
	}
	if spec.HostNetwork {
		spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
	}
	addScratchVolumes(spec)
}

// addScratchVolumes adds, once each, the emptyDirs the pod's containers
// mount where their images write.
func addScratchVolumes(spec *corev1.PodSpec) {
	names := map[string]bool{}
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range list {
			for _, vm := range c.VolumeMounts {
				if strings.HasPrefix(vm.Name, scratchPrefix+"-") {
					names[vm.Name] = true
				}
			}
		}
	}
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	for _, n := range keys {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: n, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
}

// scratchVolume names the emptyDir of a directory: /var/lib/nova is
// scratch-var-lib-nova.
func scratchVolume(dir string) string {
	return scratchPrefix + strings.ReplaceAll(strings.TrimSuffix(dir, "/"), "/", "-")
}

// mounted reports whether a volume is mounted on dir or on a directory
// above it.
func mounted(mounts []corev1.VolumeMount, dir string) bool {
	for _, vm := range mounts {
		if vm.MountPath == dir || strings.HasPrefix(dir, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}
