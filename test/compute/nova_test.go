package compute_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"

	"github.com/oskproject/osk/internal/testing/cloudtest"
)

// novaControlPlane starts nova's metadata API, scheduler and conductor as
// their Deployments run them and waits until nova lists the scheduler and
// the conductor up.
func (b *bed) novaControlPlane(t *testing.T) {
	b.StartDeployment("nova-metadata", 8775, cloudtest.Answers(fmt.Sprintf("http://%s:8775/", b.IP("nova-metadata"))))
	b.Start("Deployment/nova-scheduler", b.ComputeServiceUp("nova-scheduler"))
	b.Start("Deployment/nova-conductor", b.ComputeServiceUp("nova-conductor"))
}

// libvirtWritable are the directories of libvirt's image that libvirtd
// writes (domain definitions, logs, caches): the container's own, here
// directories of the test's.
var libvirtWritable = []string{"/etc/libvirt/qemu", "/var/log/libvirt", "/var/cache/libvirt"}

// computeNode starts libvirtd and nova-compute as their DaemonSets run
// them and waits until nova lists the hypervisor, then checks its
// resource provider's inventory in placement.
func (b *bed) computeNode(t *testing.T) {
	// QEMU runs as qemu.conf's user, which must reach the instances'
	// files under the test's directory.
	for dir := b.Root; dir != "/"; dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.RunInit("DaemonSet/libvirt-libvirtd")
	b.Start("DaemonSet/libvirt-libvirtd", exists(filepath.Join(b.Root, cloudtest.HostDir, "run", "libvirt", "libvirt-sock")))
	b.RunInit("DaemonSet/nova-compute")
	b.Start("DaemonSet/nova-compute", b.ComputeServiceUp("nova-compute"))
	b.waitHypervisor(t)
}

// inMountNamespace runs the process of a node agent (a DaemonSet) in a
// mount namespace of its own where its pod's mounts are at their paths,
// as in its container: libvirt, Open vSwitch and the tools the agents
// run (through sudo, which drops the environment) know the paths of
// their own files and sockets, which no option moves. The namespace's
// mounts, the network namespaces' among them, go with its processes.
func (b *bed) inMountNamespace(object string, p cloudtest.Process) cloudtest.Process {
	switch {
	case !strings.HasPrefix(object, "DaemonSet/"):
		return p
	case object == "DaemonSet/libvirt-libvirtd":
		return b.InMountNamespace(object, p, libvirtWritable...)
	}
	return b.InMountNamespace(object, p)
}

// waitHypervisor waits until nova lists the hypervisor and placement its
// resource provider with VCPU, MEMORY_MB and DISK_GB inventory.
func (b *bed) waitHypervisor(t *testing.T) {
	admin := b.Admin()
	cc, err := openstack.NewComputeV2(admin, internal)
	if err != nil {
		t.Fatal(err)
	}
	// From 2.53 on, a hypervisor's id is its resource provider's.
	cc.Microversion = "2.53"
	pc, err := openstack.NewPlacementV1(admin, internal)
	if err != nil {
		t.Fatal(err)
	}
	b.Logs["nova-compute"].WaitUntil(t, 3*time.Minute, func() error {
		page, err := hypervisors.List(cc, nil).AllPages(t.Context())
		if err != nil {
			return err
		}
		hs, err := hypervisors.ExtractHypervisors(page)
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return fmt.Errorf("no hypervisor listed")
		}
		t.Logf("hypervisor %s (%s), state %s, status %s", hs[0].HypervisorHostname, hs[0].HypervisorType, hs[0].State, hs[0].Status)
		return inventory(t, pc, hs[0].ID)
	})
}

// inventory checks the resource provider of a hypervisor in placement.
func inventory(t *testing.T, pc *gophercloud.ServiceClient, id string) error {
	inv, err := resourceproviders.GetInventories(t.Context(), pc, id).Extract()
	if err != nil {
		return fmt.Errorf("inventory of resource provider %s: %w", id, err)
	}
	for _, class := range []string{"VCPU", "MEMORY_MB", "DISK_GB"} {
		if inv.Inventories[class].Total <= 0 {
			return fmt.Errorf("resource provider %s has no %s: %+v", id, class, inv.Inventories)
		}
	}
	t.Logf("resource provider %s: %+v", id, inv.Inventories)
	return nil
}
