package ceph_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/cloudtest"
)

// cinderAPI is cinder-api as the bed starts it.
var cinderAPI = cloudtest.API{Service: "block-storage", Deployment: "cinder-api", Port: 8776, Path: "/"}

// pythonStandIns holds the bed's stand-in for the image's etcd3gw.
var pythonStandIns, _ = filepath.Abs("testdata/python")

// cinderDaemons are cinder's RPC services, each one Deployment.
var cinderDaemons = []string{"cinder-scheduler", "cinder-volume", "cinder-backup"}

// startCinder brings up etcd (cinder's locks), cinder-api with its Jobs,
// and the scheduler, volume and backup services, each in a mount
// namespace where its pod's /etc/cinder and /etc/ceph are at their paths,
// and waits until cinder lists the three services up.
func startCinder(t *testing.T, c *cloudtest.Cloud) *gophercloud.ServiceClient {
	t.Helper()
	c.Wrap = inPodDirs(c)
	c.StartEtcd()
	c.StartAPI(cinderAPI)
	bs, err := openstack.NewBlockStorageV3(c.Admin(), internal)
	if err != nil {
		t.Fatal(err)
	}
	// The scheduler first, as in a running cloud: cinder-backup announces
	// itself to the schedulers once when it starts (then every 60 s), and
	// a scheduler not yet listening would not know it for a minute.
	scheduler, others := cinderDaemons[:1], cinderDaemons[1:]
	c.Start("Deployment/"+scheduler[0], nil)
	c.Logs[scheduler[0]].WaitUntil(t, 3*time.Minute, func() error { return servicesUp(t, bs, scheduler) })
	for _, d := range others {
		c.Start("Deployment/"+d, nil)
	}
	c.Logs["cinder-volume"].WaitUntil(t, 3*time.Minute, func() error { return servicesUp(t, bs, cinderDaemons) })
	return bs
}

// servicesUp says which of the named cinder services are not (yet)
// listed up.
func servicesUp(t *testing.T, bs *gophercloud.ServiceClient, names []string) error {
	page, err := services.List(bs, nil).AllPages(t.Context())
	if err != nil {
		return err
	}
	list, err := services.ExtractServices(page)
	if err != nil {
		return err
	}
	up := map[string]bool{}
	for _, s := range list {
		up[s.Binary] = up[s.Binary] || (s.State == "up" && s.Status == "enabled")
	}
	var down []string
	for _, d := range names {
		if !up[d] {
			down = append(down, d)
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("cinder lists %s not up (services: %+v)", strings.Join(down, ", "), list)
	}
	return nil
}

// inPodDirs runs cinder's services in a mount namespace of their own with
// their pod's /etc/cinder and /etc/ceph at those paths, as in their
// containers: cinder-api's WSGI application finds cinder.conf only at
// /etc/cinder (oslo.config's default), and os-brick reads the client's
// keyring only at /etc/ceph/ceph.client.<user>.keyring. Python finds the
// stand-in for the image's etcd3gw first (testdata/python). Everything
// else runs as cloudtest starts it.
func inPodDirs(c *cloudtest.Cloud) func(string, cloudtest.Process) cloudtest.Process {
	return func(object string, p cloudtest.Process) cloudtest.Process {
		if !strings.HasPrefix(object, "Deployment/cinder-") {
			return p
		}
		p.Env = append(p.Env, "PYTHONPATH="+pythonStandIns)
		dirs := map[string]string{}
		for path, local := range c.Mounts(object) {
			if dir := filepath.Dir(path); dir == "/etc/cinder" || dir == "/etc/ceph" {
				dirs[dir] = filepath.Dir(local)
			}
		}
		var script []string
		for _, dir := range slices.Sorted(maps.Keys(dirs)) {
			script = append(script, fmt.Sprintf("mount --bind %q %q", dirs[dir], dir))
		}
		p.Argv = append([]string{"unshare", "--mount", "--propagation", "private", "/bin/sh", "-ec",
			strings.Join(append(script, `exec "$@"`), "; "), "sh"}, p.Argv...)
		return p
	}
}

// volumeFromImage creates a volume from the image and checks that cinder
// made it a copy-on-write clone of the image's snapshot in pool volumes.
func volumeFromImage(t *testing.T, bs *gophercloud.ServiceClient, cl *cephtest.Cluster, imageID string) string {
	t.Helper()
	v, err := volumes.Create(t.Context(), bs, volumes.CreateOpts{Name: "from-image", Size: 1, ImageID: imageID}, nil).Extract()
	if err != nil {
		t.Fatalf("creating a volume from the image: %v", err)
	}
	waitStatus(t, func() (string, error) {
		got, err := volumes.Get(t.Context(), bs, v.ID).Extract()
		if err != nil {
			return "", err
		}
		return got.Status, nil
	}, "available")
	rbdName := "volumes/volume-" + v.ID
	parent := "images/" + imageID + "@snap"
	if info := cl.Run("rbd", "info", rbdName); !strings.Contains(info, "parent: "+parent) {
		t.Errorf("rbd info %s names no parent %s: it is not a clone of the image\n%s", rbdName, parent, info)
	}
	if children := cl.Run("rbd", "children", parent); !slices.Contains(strings.Fields(children), rbdName) {
		t.Errorf("rbd children %s: %q lacks %s", parent, children, rbdName)
	}
	return v.ID
}

// backupVolume backs the volume up and checks that the backup is in pool
// backup.
func backupVolume(t *testing.T, bs *gophercloud.ServiceClient, cl *cephtest.Cluster, volumeID string) {
	t.Helper()
	// cinder-backup sets its driver up after it has announced itself to
	// the schedulers, as not yet working, and announces the change only
	// with its next report (every 10 s as osk sets it, 60 s by default):
	// until then a scheduler refuses backups ("Service not found for
	// creating backup."). Like a user, retry those, for two minutes at
	// most.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, err := backups.Create(t.Context(), bs, backups.CreateOpts{VolumeID: volumeID, Name: "first"}).Extract()
		if err != nil {
			t.Fatalf("backing the volume up: %v", err)
		}
		var got *backups.Backup
		waitStatus(t, func() (string, error) {
			got, err = backups.Get(t.Context(), bs, b.ID).Extract()
			if err != nil {
				return "", err
			}
			return got.Status, nil
		}, "available", "error")
		if got.Status == "available" {
			break
		}
		if !strings.Contains(got.FailReason, "Service not found") || time.Now().After(deadline) {
			t.Fatalf("backup %s: status %s: %s", b.ID, got.Status, got.FailReason)
		}
		t.Logf("backup %s refused (%s); retrying in 5 s", b.ID, got.FailReason)
		if err := backups.Delete(t.Context(), bs, b.ID).ExtractErr(); err != nil {
			t.Fatalf("deleting the refused backup: %v", err)
		}
		time.Sleep(5 * time.Second)
	}
	images := strings.Fields(cl.Run("rbd", "ls", "-p", "backup"))
	if !slices.ContainsFunc(images, func(name string) bool { return strings.Contains(name, volumeID) }) {
		t.Errorf("rbd ls backup: %q holds nothing of volume %s", images, volumeID)
	}
}

// waitStatus waits until status reports one of want (the first by
// default), failing on another error state or after five minutes.
func waitStatus(t *testing.T, status func() (string, error), want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		got, err := status()
		switch {
		case err == nil && slices.Contains(want, got):
			return
		case err == nil && strings.HasPrefix(got, "error"):
			t.Fatalf("status %s, want %s", got, want[0])
		case time.Now().After(deadline):
			t.Fatalf("status %q (%v) after 5 minutes, want %s", got, err, want[0])
		}
		time.Sleep(2 * time.Second)
	}
}
