package render_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/render"
)

// TestLibvirtExporter: with StackLight on, libvirtd's pods carry the
// libvirt exporter, which runs unprivileged as nobody with a read-only
// root, every capability dropped and limits, and mounts libvirt's socket
// directory read-only and nothing else of the privileged pod; with it
// off, it is gone.
func TestLibvirtExporter(t *testing.T) {
	d := load(t, "full")
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := podSpec(find(res.Objects, "DaemonSet/libvirt-libvirtd"))
	if !ok {
		t.Fatal("no DaemonSet libvirt-libvirtd")
	}
	i := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == "exporter" })
	if i < 0 {
		t.Fatalf("libvirtd's pod has no exporter: %d containers", len(spec.Containers))
	}
	c := spec.Containers[i]
	sc := c.SecurityContext
	switch {
	case sc == nil || sc.Privileged != nil && *sc.Privileged:
		t.Errorf("exporter privileged: %+v", sc)
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || *sc.RunAsUser != 65534:
		t.Errorf("exporter runs as %v, want nobody (65534), non-root", sc.RunAsUser)
	case !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("exporter not restricted: %+v", sc)
	case c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero():
		t.Errorf("exporter without resources: %+v", c.Resources)
	}
	// Besides libvirt's sockets, only the internal CA's certificate (a
	// public ConfigMap every container gets with features.ssl.internal).
	mounts := slices.DeleteFunc(slices.Clone(c.VolumeMounts), func(m corev1.VolumeMount) bool {
		return m.MountPath == catalog.InternalCADir && m.ReadOnly
	})
	if len(mounts) != 1 || mounts[0].MountPath != "/run/libvirt" || !mounts[0].ReadOnly {
		t.Errorf("exporter mounts %+v, want /run/libvirt read-only only (and the internal CA)", c.VolumeMounts)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != catalog.MetricsPort || c.Ports[0].ContainerPort != catalog.LibvirtExporterPort {
		t.Errorf("exporter ports %+v", c.Ports)
	}

	d.Spec.Features.StackLight.Enabled = false
	off, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ = podSpec(find(off.Objects, "DaemonSet/libvirt-libvirtd"))
	if slices.ContainsFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == "exporter" }) {
		t.Error("libvirt's exporter rendered with StackLight off")
	}
}
