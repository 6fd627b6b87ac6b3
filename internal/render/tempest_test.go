package render_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/oslo"
	"github.com/oskproject/osk/internal/render"
)

// TestTempestJobReportsItsResult checks that the Job the operator reads
// Tempest's result from is rendered under that name, and that its main
// container's termination message is the file the run writes
// (/dev/termination-log, policy File), never a log tail.
func TestTempestJobReportsItsResult(t *testing.T) {
	var job *batchv1.Job
	for _, o := range renderExample(t, "full", nil).Objects {
		if j, ok := o.(*batchv1.Job); ok && j.Name == lifecycle.TempestJob {
			job = j
		}
	}
	if job == nil {
		t.Fatalf("no Job %s rendered for examples/full.yaml, which enables tempest", lifecycle.TempestJob)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if p := c.TerminationMessagePolicy; p != "" && p != corev1.TerminationMessageReadFile {
		t.Errorf("container %s: terminationMessagePolicy %s; want File (the default)", c.Name, p)
	}
	if p := c.TerminationMessagePath; p != "" && p != corev1.TerminationMessagePathDefault {
		t.Errorf("container %s: terminationMessagePath %s; want %s (the default)", c.Name, p, corev1.TerminationMessagePathDefault)
	}
}

// TestTempestJob checks what the tempest Job runs and the tempest.conf it
// reads: osk's job in Tempest's image (osk copied in by an init
// container), the floating network and the test selection from the spec,
// the system-scoped admin Keystone's enforce_scope needs, and the
// features the cloud runs.
func TestTempestJob(t *testing.T) {
	d := load(t, "full")
	d.Spec.Features.Neutron.FloatingNetwork = &v1.FloatingNetwork{Physnet: "physnet1", Subnet: v1.FloatingSubnet{
		Range: "203.0.113.0/24", Gateway: "203.0.113.1", PoolStart: "203.0.113.10", PoolEnd: "203.0.113.200"}}
	d.Spec.Features.Tempest = v1.TempestFeatures{Regex: `^tempest\.api\.identity\.`, ExcludeRegex: "slow", Concurrency: 2}
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var job *batchv1.Job
	var etc *corev1.Secret
	for _, o := range res.Objects {
		switch o := o.(type) {
		case *batchv1.Job:
			if o.Name == lifecycle.TempestJob {
				job = o
			}
		case *corev1.Secret:
			if o.Name == "tempest-etc" {
				etc = o
			}
		}
	}
	if job == nil || etc == nil {
		t.Fatal("no tempest Job or tempest-etc Secret")
	}
	pod := job.Spec.Template.Spec
	want := []string{"/osk/osk", "job", "tempest", "--config", "/etc/tempest/tempest.conf", "--workspace", "/var/lib/tempest/workspace",
		"--public-network", "physnet1,203.0.113.0/24,203.0.113.1,203.0.113.10,203.0.113.200",
		"--", "--regex", `^tempest\.api\.identity\.`, "--exclude-regex", "slow", "--concurrency", "2"}
	if got := pod.Containers[0].Command; !slices.Equal(got, want) {
		t.Errorf("command:\n got %q\nwant %q", got, want)
	}
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Name != "install-osk" {
		t.Errorf("init containers %v, want install-osk copying osk into Tempest's image", pod.InitContainers)
	}
	conf, err := oslo.Parse(etc.Data["tempest.conf"])
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct{ section, key, want string }{
		{"auth", "admin_system", "all"},
		{"enforce_scope", "keystone", "true"},
		{"service_available", "nova", "true"},
		{"compute-feature-enabled", "vnc_console", "true"},
		{"compute-feature-enabled", "spice_console", "false"},
		{"network-feature-enabled", "port_security", "true"},
		{"volume", "storage_protocol", "ceph"},
	} {
		if got, _ := conf.Get(o.section, o.key); got != o.want {
			t.Errorf("tempest.conf [%s] %s = %q, want %q", o.section, o.key, got, o.want)
		}
	}
	d.Spec.Features.Tempest = v1.TempestFeatures{}
	d.Spec.Features.Neutron.FloatingNetwork = nil
	if res, err = render.Render(d, render.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if j, ok := o.(*batchv1.Job); ok && j.Name == lifecycle.TempestJob {
			if got := j.Spec.Template.Spec.Containers[0].Command; !slices.Equal(got[len(got)-2:], []string{"--", "--smoke"}) || slices.Contains(got, "--public-network") {
				t.Errorf("by default the Job runs the smoke tests with no public network: %q", got)
			}
		}
	}
}

// TestGlanceShowsDirectURLsOnlyForRBD checks that Glance tells clients
// where an image's data lives only with the RBD store, whose copy-on-write
// clones need it: with the file store it would show every user a path on
// the API's volume.
func TestGlanceShowsDirectURLsOnlyForRBD(t *testing.T) {
	for backend, want := range map[v1.StoreBackend]string{v1.StoreFile: "", v1.StoreCeph: "true"} {
		d := load(t, "minimal")
		d.Spec.Features.Glance.Backend = backend
		if backend == v1.StoreFile {
			one := int32(1)
			d.Spec.Services = map[string]v1.ServiceOverride{"image": {Components: map[string]v1.ComponentOverride{"api": {Replicas: &one}}}}
		}
		res, err := render.Render(d, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, o := range res.Objects {
			if s, ok := o.(*corev1.Secret); ok && s.Name == "glance-etc" {
				found = true
				conf, err := oslo.Parse(s.Data["glance-api.conf"])
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := conf.Get("DEFAULT", "show_image_direct_url"); got != want {
					t.Errorf("%s store: show_image_direct_url = %q, want %q", backend, got, want)
				}
			}
		}
		if !found {
			t.Errorf("%s store: no Secret glance-etc rendered", backend)
		}
	}
}

// TestAgentsHoldNoDatabasePassword checks that the agents the catalog
// marks NoDatabase (nova-compute, Neutron's agents) mount no file with a
// database URL, while the service's own servers keep theirs.
func TestAgentsHoldNoDatabasePassword(t *testing.T) {
	cat := catalog.Default()
	for _, name := range []string{"minimal", "compute", "full"} {
		res := renderExample(t, name, nil)
		secrets := map[string]*corev1.Secret{}
		for _, o := range res.Objects {
			if s, ok := o.(*corev1.Secret); ok {
				secrets[s.Name] = s
			}
		}
		checked := 0
		for _, o := range res.Objects {
			ds, ok := o.(*appsv1.DaemonSet)
			if !ok {
				continue
			}
			s, _ := cat.Get(ds.Labels[render.LabelService])
			if s == nil {
				continue
			}
			c, ok := s.Component(ds.Spec.Template.Labels["app.kubernetes.io/component"])
			if !ok || !c.NoDatabase {
				continue
			}
			checked++
			for _, f := range mountedFiles(&ds.Spec.Template.Spec, secrets) {
				if strings.Contains(f, "mysql+pymysql://") {
					t.Errorf("%s: DaemonSet %s mounts a database URL:\n%s", name, ds.Name, f)
				}
			}
		}
		if checked == 0 {
			t.Errorf("%s: no agent marked NoDatabase was rendered", name)
		}
	}
}

// mountedFiles returns the content of every key of every Secret a pod
// mounts.
func mountedFiles(pod *corev1.PodSpec, secrets map[string]*corev1.Secret) []string {
	var out []string
	for _, v := range pod.Volumes {
		if v.Secret == nil || secrets[v.Secret.SecretName] == nil {
			continue
		}
		for _, b := range secrets[v.Secret.SecretName].Data {
			out = append(out, string(b))
		}
	}
	return out
}
