package render

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/nodeconfig"
)

// renderNodeVariants renders a DaemonSet of the component for every node
// key whose overrides change what the component reads, and returns the
// node labels the general DaemonSet must stay off. Keys are taken in
// sorted order; each variant also stays off the nodes of the keys before
// it, so a node with several keys' labels runs one agent.
func (m *model) renderNodeVariants(base *workload) [][2]string {
	var taken [][2]string
	for _, key := range sortedKeys(m.d.Spec.Nodes) {
		label, value, _ := strings.Cut(key, "::")
		v := m.nodeVariant(base, key)
		if v == nil {
			continue
		}
		v.nodeLabel, v.nodeValue = label, value
		v.exclude = append([][2]string(nil), taken...)
		if !subset(v.files, base.files) || len(v.files) != len(base.files) {
			m.add(m.configSecret(v.secret, m.labels(v.s, v.c.Name), v.files))
		} else {
			v.secret = base.secret
		}
		m.add(m.podController(v))
		taken = append(taken, [2]string{label, value})
	}
	return taken
}

// nodeVariant renders the component with a node key's overrides; nil
// when they change nothing the component reads.
func (m *model) nodeVariant(base *workload, key string) *workload {
	o := m.d.Spec.Nodes[key]
	ctx := *m.ctx
	ctx.Features = mergeNodeFeatures(m.d.Spec.Features, o.Features)
	fs := m.componentFiles(base.s, base.c, m.baseFiles(base.s, &ctx))
	fs.merge(o.Services[base.s.Name].Config)
	v := &workload{
		s: base.s, c: base.c, ctx: &ctx, nodeKey: key,
		name:  base.name + "-" + slug(key),
		files: m.content(base.s, &ctx, fs, base.c.Reads),
	}
	v.secret = v.name + "-etc"
	same := subset(v.files, base.files) && strings.Join(m.nodeInterfaces(v), ",") == strings.Join(m.nodeInterfaces(base), ",")
	if same {
		return nil
	}
	return v
}

// mergeNodeFeatures lays a node key's features over the deployment's.
func mergeNodeFeatures(f v1.Features, n *v1.NodeFeatures) *v1.Features {
	out := *f.DeepCopy()
	if n == nil {
		return &out
	}
	if nn := n.Neutron; nn != nil {
		out.Neutron.TunnelInterface = or(nn.TunnelInterface, out.Neutron.TunnelInterface)
		if nn.ExternalNetworks != nil {
			out.Neutron.ExternalNetworks = nn.ExternalNetworks
		}
	}
	if nv := n.Nova; nv != nil {
		out.Nova.LiveMigrationInterface = or(nv.LiveMigrationInterface, out.Nova.LiveMigrationInterface)
		if nv.ImagesBackend != "" {
			out.Nova.ImagesBackend = nv.ImagesBackend
		}
		if r := nv.AllocationRatios; r != nil {
			out.Nova.AllocationRatios.CPU = or(r.CPU, out.Nova.AllocationRatios.CPU)
			out.Nova.AllocationRatios.RAM = or(r.RAM, out.Nova.AllocationRatios.RAM)
			out.Nova.AllocationRatios.Disk = or(r.Disk, out.Nova.AllocationRatios.Disk)
		}
	}
	return &out
}

// nodeInterfaces lists "NAME=interface" for each address the workload
// needs from its node.
func (m *model) nodeInterfaces(w *workload) []string {
	var out []string
	for _, a := range w.c.NodeAddresses {
		out = append(out, a.Name+"="+a.Interface(w.ctx))
	}
	return out
}

// nodeConfigContainer finds the addresses of the node's interfaces and
// writes them where the component reads them (osk node-config).
func (m *model) nodeConfigContainer(w *workload) *corev1.Container {
	if len(w.c.NodeAddresses) == 0 {
		return nil
	}
	args := []string{"osk", "node-config", "--dir", catalog.NodeConfigDir}
	for _, a := range w.c.NodeAddresses {
		spec := a.Name + "=" + a.Interface(w.ctx)
		for _, o := range a.Options {
			spec += ":" + o.Section + "." + o.Key
		}
		args = append(args, "--address", spec)
	}
	ctr := &corev1.Container{
		Name:         "node-config",
		Image:        m.images["osk"],
		Command:      args,
		VolumeMounts: []corev1.VolumeMount{{Name: "node-config", MountPath: catalog.NodeConfigDir}},
	}
	if nc := w.c.NodeCertificates; nc != nil {
		ctr.Command = append(ctr.Command, "--certificates", nc.Dir, "--certificate-address", nc.Address,
			"--client-name", catalog.LibvirtClientName)
		ctr.Env = []corev1.EnvVar{{Name: nodeconfig.CAEnv, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: nc.Secret}, Key: nc.Key}}}}
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: nodeCertificatesVolume, MountPath: nc.Dir})
	}
	m.secure(ctr, runtime("osk"), nil, catalog.ProfileInit)
	return ctr
}

// nodeCertificatesVolume is the in-memory volume a pod's node
// certificates (catalog.NodeCertificates) are written to.
const nodeCertificatesVolume = "node-certificates"

// addNodeCertificates gives a pod whose component has node certificates
// their volume, mounted read-only in its own container, and returns the
// hash input that rolls the pod onto a new CA: a digest of the CA, never
// the CA itself.
func (m *model) addNodeCertificates(w *workload, spec *corev1.PodSpec) string {
	nc := w.c.NodeCertificates
	if nc == nil {
		return ""
	}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: nodeCertificatesVolume,
		VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts,
		corev1.VolumeMount{Name: nodeCertificatesVolume, MountPath: nc.Dir, ReadOnly: true})
	sum := sha256.Sum256([]byte(m.creds.Value(nc.Secret, nc.Key)))
	return ",ca=" + hex.EncodeToString(sum[:])
}
