// Package ceph_test runs OpenStack Zed, as osk renders it, on a real Ceph
// cluster: Debian's Ceph daemons on loopback stand in for what Rook runs,
// a stand-in for Rook's operator creates the pools, the clients and the
// object store's gateway and publishes their outputs as Rook does, and
// osk's production code turns them into the openstack-ceph-keys Secret
// the services' files come from.
// Glance stores images in RBD, cinder clones them into volumes and backs
// those up, and the RADOS gateway serves Swift behind osk's Keystone.
package ceph_test

import (
	"bytes"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/oskproject/osk/internal/ceph"
	"github.com/oskproject/osk/internal/cephkeys"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/cloudtest"
)

var osk string

func TestMain(m *testing.M) { cloudtest.Main(m, &osk) }

var internal = gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal, Region: "RegionOne"}

// TestOpenStackOnCeph brings Ceph and the Zed services up and checks what
// OpenStack stores in Ceph, with osk's assembled Secret and rendered files.
func TestOpenStackOnCeph(t *testing.T) {
	start := time.Now()
	cl := cephtest.Start(t, 3)
	cephUp := time.Since(start)
	c := cloudtest.New(t, "testdata/zed-ceph.yaml", osk)
	rook := newRookStandIn(t, cl, c.Local)
	rook.secrets[gatewayUserSecret] = gatewayUser(t, c)
	rook.apply(rendered(t))
	data, problems := ceph.Assemble(rook.published)
	if len(problems) > 0 {
		t.Fatalf("assembling the Ceph Secret: %s", strings.Join(problems, "; "))
	}
	c.Ceph = data
	c.Render()
	checkSecretComplete(t, c, data)
	c.StartAPI(cloudtest.CoreAPIs[0])
	c.StartAPI(cloudtest.CoreAPIs[2])
	admin := c.Admin()
	var imageID string
	t.Run("glance stores an image in RBD pool images", func(t *testing.T) {
		c.T = t
		imageID = uploadImage(t, admin)
		if ls := cl.Run("rbd", "ls", "-p", "images"); !slices.Contains(strings.Fields(ls), imageID) {
			t.Errorf("rbd ls images: %q lacks the image %s", ls, imageID)
		}
	})
	t.Run("glance's key is refused on volumes", func(t *testing.T) { c.T = t; glanceRefused(t, c, cl) })
	c.T = t
	t.Run("the gateway runs with osk's Keystone options", func(t *testing.T) { c.T = t; gatewayRunsOskOptions(t, c, cl) })
	t.Run("Swift through Keystone", func(t *testing.T) {
		c.T = t
		before, _ := c.ServiceJobs("object-storage")
		for _, j := range before {
			c.RunJob(j)
		}
		swiftThroughKeystone(t, c)
	})
	c.T = t
	if imageID == "" {
		t.Fatal("no image to make a volume of")
	}
	bs := startCinder(t, c)
	t.Cleanup(func() { stopAll(c, cl) })
	var volumeID string
	t.Run("cinder clones the image into pool volumes", func(t *testing.T) {
		c.T = t
		volumeID = volumeFromImage(t, bs, cl, imageID)
	})
	t.Run("cinder-backup backs the volume up to pool backup", func(t *testing.T) {
		c.T = t
		if volumeID == "" {
			t.Fatal("no volume to back up")
		}
		backupVolume(t, bs, cl, volumeID)
	})
	rgw := cl.DaemonMemoryKiB(rgwUser(objectStore))
	t.Logf("Ceph up in %s, whole test %s; Ceph's daemons use %d MiB, the gateway %d MiB",
		cephUp.Round(time.Second), time.Since(start).Round(time.Second), (cl.MemoryKiB()-rgw)/1024, rgw/1024)
}

// stopAll asks every server of the bed to stop at once, when the test
// ends: each one's own cleanup then waits for a process already stopping,
// instead of stopping them one after the other (each may take up to the
// 20 s its cleanup waits).
func stopAll(c *cloudtest.Cloud, cl *cephtest.Cluster) {
	for _, p := range c.Logs {
		_ = p.Signal(syscall.SIGTERM)
	}
	for _, p := range cl.Daemons {
		_ = p.Signal(syscall.SIGTERM)
	}
}

// checkSecretComplete checks that the assembled Secret holds, well-formed,
// every key the rendered services read.
func checkSecretComplete(t *testing.T, c *cloudtest.Cloud, data map[string][]byte) {
	t.Helper()
	for svc, keys := range c.Result.Ceph {
		if p := cephkeys.Check(data, keys); len(p) > 0 {
			t.Errorf("%s: %s", svc, cephkeys.Summary("openstack-ceph-keys", p))
		}
	}
}

func uploadImage(t *testing.T, admin *gophercloud.ProviderClient) string {
	t.Helper()
	ic, err := openstack.NewImageV2(admin, internal)
	if err != nil {
		t.Fatal(err)
	}
	img, err := images.Create(t.Context(), ic, images.CreateOpts{Name: "cirros", ContainerFormat: "bare", DiskFormat: "raw"}).Extract()
	if err != nil {
		t.Fatalf("creating an image: %v", err)
	}
	data := bytes.Repeat([]byte("osk-ceph"), 1<<17) // 1 MiB
	if err := imagedata.Upload(t.Context(), ic, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("uploading: %v", err)
	}
	got, err := images.Get(t.Context(), ic, img.ID).Extract()
	if err != nil || got.Status != images.ImageStatusActive {
		t.Fatalf("the image after upload: %+v, %v", got, err)
	}
	return img.ID
}

// glanceRefused uses glance-api's own rendered ceph.conf and keyring: the
// glance client may list images but not write volumes.
func glanceRefused(t *testing.T, c *cloudtest.Cloud, cl *cephtest.Cluster) {
	conf := c.Root + "/glance-api/etc/ceph/ceph.conf"
	asGlance := func(args ...string) ([]byte, error) {
		cmd := cl.Command("rbd", append([]string{"--conf", conf, "--id", "glance"}, args...)...)
		return cmd.CombinedOutput()
	}
	if out, err := asGlance("ls", "-p", "images"); err != nil {
		t.Fatalf("glance cannot list its own pool: %v\n%s", err, out)
	}
	out, err := asGlance("create", "--size", "1", "volumes/intruder")
	if err == nil {
		t.Fatalf("glance created an image in volumes:\n%s", out)
	}
	if !strings.Contains(string(out), "Operation not permitted") && !strings.Contains(string(out), "Permission denied") {
		t.Errorf("glance refused on volumes, but not for its caps: %s", out)
	}
}
