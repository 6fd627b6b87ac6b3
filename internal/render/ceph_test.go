package render_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/cephkeys"
	"github.com/oskproject/osk/internal/oslo"
	"github.com/oskproject/osk/internal/render"
)

// cephData is a complete Ceph Secret for examples/full.yaml.
func cephData() map[string][]byte {
	d := map[string][]byte{
		cephkeys.FSID:           []byte("4b5c8c0a-ff60-454b-a1b4-9747aa737d19"),
		cephkeys.MonHost:        []byte("[v2:10.0.0.1:3300,v1:10.0.0.1:6789]"),
		cephkeys.RGWInternalURL: []byte("http://rgw.ceph.svc:8080"),
	}
	for _, r := range cephkeys.Roles {
		d[cephkeys.Pool(r)] = []byte("pool-" + r)
	}
	for i, c := range cephkeys.Clients {
		d[cephkeys.ClientKey(c)] = []byte(strings.Repeat(string(rune('A'+i)), 38) + "==")
	}
	return d
}

func renderCeph(t *testing.T, data map[string][]byte) *render.Result {
	t.Helper()
	res, err := render.Render(load(t, "full"), render.Options{Ceph: data})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCephKeysRead checks which keys of the Ceph Secret each service
// reads: what the operator holds it for.
func TestCephKeysRead(t *testing.T) {
	conn := []string{cephkeys.FSID, cephkeys.MonHost}
	want := map[string][]string{
		"image":            append([]string{cephkeys.ClientKey("glance"), cephkeys.Pool("images")}, conn...),
		"block-storage":    append([]string{cephkeys.ClientKey("cinder"), cephkeys.ClientKey("cinder-backup"), cephkeys.Pool("backup"), cephkeys.Pool("volumes")}, conn...),
		"compute":          append([]string{cephkeys.ClientKey("cinder"), cephkeys.Pool("vms")}, conn...),
		"telemetry-metric": append([]string{cephkeys.ClientKey("gnocchi"), cephkeys.Pool("metrics")}, conn...),
		"object-storage":   {cephkeys.RGWInternalURL},
	}
	got := renderCeph(t, nil).Ceph
	for svc, keys := range want {
		slices.Sort(keys)
		if !slices.Equal(got[svc], keys) {
			t.Errorf("%s reads %v, want %v", svc, got[svc], keys)
		}
	}
	for svc := range got {
		if _, ok := want[svc]; !ok {
			t.Errorf("%s reads the Ceph Secret (%v) unexpectedly", svc, got[svc])
		}
	}
}

// TestCephRollsOnlyReaders changes one key, one pool, the monitors, and
// checks that exactly the pods that read them get a new config hash.
func TestCephRollsOnlyReaders(t *testing.T) {
	readers := []string{"glance-api", "cinder-volume", "cinder-backup", "nova-compute", "gnocchi-api", "gnocchi-metricd"}
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{cephkeys.ClientKey("glance"), []string{"glance-api"}},
		{cephkeys.ClientKey("cinder"), []string{"cinder-volume", "cinder-backup", "nova-compute"}},
		{cephkeys.ClientKey("cinder-backup"), []string{"cinder-backup"}},
		{cephkeys.ClientKey("gnocchi"), []string{"gnocchi-api", "gnocchi-metricd"}},
		{cephkeys.MonHost, readers},
		// Every nova pod reads nova.conf, where the pool is named.
		{cephkeys.Pool("vms"), []string{"nova-api", "nova-compute", "nova-conductor", "nova-metadata", "nova-novncproxy", "nova-scheduler"}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			data := cephData()
			before := templateHashes(renderCeph(t, data).Objects)
			data[tc.key] = []byte("AQDI6BFrTzOfFxAA8jovXopMLcNCLkeL8ofZRQ==")
			if tc.key == cephkeys.MonHost {
				data[tc.key] = []byte("10.0.0.9:6789")
			} else if strings.HasPrefix(tc.key, "pool.") {
				data[tc.key] = []byte("other")
			}
			after := templateHashes(renderCeph(t, data).Objects)
			var changed []string
			for name, h := range before {
				// nova-compute's node variants roll with it.
				if after[name] != h && !strings.HasPrefix(name, "nova-compute-") {
					changed = append(changed, name)
				}
			}
			slices.Sort(changed)
			slices.Sort(tc.want)
			if !slices.Equal(changed, tc.want) {
				t.Errorf("changing %s rolled %v, want %v", tc.key, changed, tc.want)
			}
		})
	}
}

// templateHashes are the config hashes of every pod template, by
// workload name (node variants included).
func templateHashes(objs []client.Object) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		if spec, ok := podTemplate(o); ok {
			out[o.GetName()] = spec.Annotations[render.AnnotationConfigHash]
		}
	}
	return out
}

// TestCephOwnKeyringOnly checks that each pod's node gets only the
// keyrings its pod reads, and that those are its clients'.
func TestCephOwnKeyringOnly(t *testing.T) {
	want := map[string][]string{
		"glance-api":      {"glance"},
		"cinder-volume":   {"cinder"},
		"cinder-backup":   {"cinder", "cinder-backup"},
		"nova-compute":    {"cinder"},
		"gnocchi-api":     {"gnocchi"},
		"gnocchi-metricd": {"gnocchi"},
		"gnocchi-db-sync": {"gnocchi"},
	}
	for _, o := range renderCeph(t, cephData()).Objects {
		spec := render.PodSpec(o)
		if spec == nil {
			continue
		}
		got := keyringsOf(spec)
		name := o.GetName()
		if strings.HasPrefix(name, "nova-compute-") {
			name = "nova-compute" // a node variant
		}
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s %s gets keyrings %v, want %v", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), got, want[o.GetName()])
		}
	}
}

// keyringsOf lists the clients whose keyrings a pod's Secret volumes
// project.
func keyringsOf(spec *corev1.PodSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.Secret == nil {
			continue
		}
		if len(v.Secret.Items) == 0 && v.Secret.SecretName != "" && strings.HasSuffix(v.Secret.SecretName, "-etc") {
			out = append(out, "whole "+v.Secret.SecretName)
		}
		for _, it := range v.Secret.Items {
			if c, ok := strings.CutPrefix(it.Key, "ceph.client."); ok {
				out = append(out, strings.TrimSuffix(c, ".keyring"))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestNovaOneCephKey checks that instance disks and volume attachments
// use one user and one libvirt secret: nova.conf's and cinder.conf's
// agree, libvirt-secret defines that secret with that user's key, and
// nova-compute holds the user's keyring.
func TestNovaOneCephKey(t *testing.T) {
	res := renderCeph(t, cephData())
	nova := iniOf(t, res.Objects, "nova-compute-etc", "nova.conf")
	cinder := iniOf(t, res.Objects, "cinder-etc", "cinder.conf")
	user, _ := nova.Get("libvirt", "rbd_user")
	uuid, _ := nova.Get("libvirt", "rbd_secret_uuid")
	cinderUser, _ := cinder.Get("ceph", "rbd_user")
	cinderUUID, _ := cinder.Get("ceph", "rbd_secret_uuid")
	if user != cinderUser || uuid != cinderUUID || uuid != catalog.CephSecretUUID {
		t.Errorf("nova uses %s with secret %s, cinder hands out %s with %s", user, uuid, cinderUser, cinderUUID)
	}
	if pool, _ := nova.Get("libvirt", "images_rbd_pool"); pool != "pool-vms" {
		t.Errorf("nova's images_rbd_pool %q, want the Secret's pool.vms", pool)
	}
	ds := find(res.Objects, "DaemonSet/nova-compute")
	spec, _ := podSpec(ds)
	var sidecar *corev1.Container
	for i := range spec.Containers {
		if spec.Containers[i].Name == "libvirt-secret" {
			sidecar = &spec.Containers[i]
		}
	}
	if sidecar == nil {
		t.Fatal("nova-compute has no libvirt-secret container")
	}
	args := sidecar.Command[len(sidecar.Command)-4:]
	keyring := "/etc/ceph/" + cephkeys.KeyringFile(user)
	if args[1] != uuid || args[2] != user || args[3] != keyring {
		t.Errorf("libvirt-secret defines %v, want secret %s of client.%s from %s", args, uuid, user, keyring)
	}
	if !slices.ContainsFunc(sidecar.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == keyring }) {
		t.Errorf("libvirt-secret does not mount %s", keyring)
	}
	secret := find(res.Objects, "Secret/nova-compute-etc").(*corev1.Secret)
	if got := string(secret.Data[cephkeys.KeyringFile(user)]); !strings.Contains(got, string(cephData()[cephkeys.ClientKey(user)])) {
		t.Errorf("nova-compute's keyring does not hold client.%s's key", user)
	}
	conf := string(secret.Data[cephkeys.ConfFile])
	if !strings.Contains(conf, "mon host = [v2:10.0.0.1:3300,v1:10.0.0.1:6789]") {
		t.Errorf("ceph.conf lacks the monitors:\n%s", conf)
	}
}

// iniOf reads one INI file of a rendered Secret.
func iniOf(t *testing.T, objs []client.Object, secret, file string) *oslo.File {
	t.Helper()
	s := find(objs, "Secret/"+secret).(*corev1.Secret)
	f, section := oslo.New(), ""
	for _, line := range strings.Split(string(s.Data[file]), "\n") {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
		} else if k, v, ok := strings.Cut(line, " = "); ok {
			f.Set(section, k, v)
		}
	}
	return f
}

// TestCephOffline checks that an offline render names the Secret's keys
// in placeholders and holds no value.
func TestCephOffline(t *testing.T) {
	res := renderCeph(t, nil)
	s := find(res.Objects, "Secret/glance-etc").(*corev1.Secret)
	keyring := string(s.Data[cephkeys.KeyringFile("glance")])
	if !strings.Contains(keyring, "OSK_PLACEHOLDER_openstack-ceph-keys_client.glance.key") {
		t.Errorf("offline keyring: %q", keyring)
	}
}
