package render

import (
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/catalog"
)

// active returns the volumes whose When allows them.
func active(ctx *catalog.Context, vols []catalog.Volume) []catalog.Volume {
	var out []catalog.Volume
	for _, v := range vols {
		if v.When == nil || v.When(ctx) {
			out = append(out, v)
		}
	}
	return out
}

// volumes are a pod's volumes: its configuration Secret, of which the
// node gets only the files the pod reads (a service's Secret may hold
// keyrings and passwords its other components read), and the catalog's.
func (m *model) volumes(owner string, ctx *catalog.Context, secret string, files map[string][]byte, vols []catalog.Volume, kind catalog.WorkloadKind) []corev1.Volume {
	var out []corev1.Volume
	if len(files) > 0 {
		var items []corev1.KeyToPath
		for _, name := range sortedKeys(files) {
			items = append(items, corev1.KeyToPath{Key: secretKey(name), Path: secretKey(name)})
		}
		out = append(out, corev1.Volume{Name: "etc", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: secret, DefaultMode: ptr[int32](0o440), Items: items}}})
	}
	for _, v := range active(ctx, vols) {
		var src corev1.VolumeSource
		switch v.Kind {
		case catalog.VolumeLocal, catalog.VolumePersistent:
			if kind == catalog.StatefulSet {
				continue // a claim template
			}
			src.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: or(v.Claim, owner+"-"+v.Name)}
		case catalog.VolumeHostPath:
			src.HostPath = &corev1.HostPathVolumeSource{Path: v.Source, Type: ptr(corev1.HostPathDirectoryOrCreate)}
		case catalog.VolumeEmpty:
			src.EmptyDir = &corev1.EmptyDirVolumeSource{}
		case catalog.VolumeSecret:
			src.Secret = &corev1.SecretVolumeSource{SecretName: v.Source}
		}
		out = append(out, corev1.Volume{Name: v.Name, VolumeSource: src})
	}
	return out
}

// mounts mount each configuration file on its own (subPath), so a running
// pod keeps the file it started with until it is rolled, and the catalog's
// volumes.
func (m *model) mounts(s *catalog.Service, ctx *catalog.Context, files map[string][]byte, vols []catalog.Volume) []corev1.VolumeMount {
	var out []corev1.VolumeMount
	for _, name := range sortedKeys(files) {
		cf, _ := s.File(name)
		out = append(out, corev1.VolumeMount{Name: "etc", MountPath: path.Join(cf.Dir, name), SubPath: secretKey(name), ReadOnly: true})
	}
	for _, v := range active(ctx, vols) {
		out = append(out, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath})
	}
	return out
}
