package compute_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/provider"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/allocations"

	"github.com/oskproject/osk/internal/poll"
)

// guestBoot bounds the guest's boot under QEMU's emulation (TCG), from
// ACTIVE to its metadata line on the console: about 30 s of its own
// clock on a quiet machine, several times that under load.
const guestBoot = 8 * time.Minute

// tenantCIDR is the user's network.
const tenantCIDR = "10.10.0.0/24"

// server is what the boot step leaves for the delete step.
type server struct {
	id, port string
	user     *gophercloud.ProviderClient
}

// bootServer does what a user's first hour on the cloud does: as the
// admin, the floating network (the spec's) and a flavor; as a user of a
// new project, the guest's kernel, ramdisk and machine images, a network
// with a subnet, a router with its gateway on the floating network, a
// server and a floating IP. It checks that the server is ACTIVE on the
// compute, its port ACTIVE and bound there, that its console shows the
// address Neutron gave it and the UUID it read from the metadata service,
// and that the floating IP answers from the external network.
func (b *bed) bootServer(t *testing.T) {
	admin := b.Admin()
	b.waitHostMapped(t)
	external := b.floatingNetwork(t, admin)
	flavor := createFlavor(t, admin)
	user := b.newUser(t, admin)
	image := uploadGuest(t, user)
	network := tenantNetwork(t, user, external)
	allowPing(t, user)

	cc := client(t, openstack.NewComputeV2, user)
	s, err := servers.Create(t.Context(), cc, servers.CreateOpts{Name: "first", ImageRef: image, FlavorRef: flavor,
		Networks: []servers.Network{{UUID: network}}}, nil).Extract()
	if err != nil {
		t.Fatalf("creating the server: %v", err)
	}
	b.server = &server{id: s.ID, user: user}
	start := time.Now()
	b.Logs["nova-compute"].WaitUntil(t, 5*time.Minute, func() error { return serverStatus(t, cc, s.ID, "ACTIVE") })
	active := time.Now()
	t.Logf("server %s ACTIVE after %s", s.ID, active.Sub(start).Round(time.Second))

	host := serverHost(t, admin, s.ID)
	port := b.checkPort(t, admin, s.ID, host)
	b.server.port = port.ID
	address, uuid := waitConsole(t, cc, s.ID)
	t.Logf("the guest printed its metadata line %s after ACTIVE", time.Since(active).Round(time.Second))
	if len(port.FixedIPs) != 1 || address != port.FixedIPs[0].IPAddress {
		t.Errorf("the guest got address %s by DHCP; Neutron gave its port %+v", address, port.FixedIPs)
	}
	if uuid != s.ID {
		t.Errorf("the guest read instance UUID %q from the metadata service, want %s", uuid, s.ID)
	}
	logMemory(t, filepath.Dir(b.Root))
	b.floatingIP(t, user, external, port.ID)
}

// waitHostMapped waits until a scheduler has mapped the compute node to
// its cell (discover_hosts_in_cells_interval, osk's rendered value):
// before that, every boot fails with "No valid host".
func (b *bed) waitHostMapped(t *testing.T) {
	log := b.Logs["nova-scheduler"].Log
	start := time.Now()
	b.Logs["nova-scheduler"].WaitUntil(t, 3*time.Minute, func() error {
		out, err := os.ReadFile(log)
		if err != nil {
			return err
		}
		if !bytes.Contains(out, []byte("Discovered 1 new hosts")) {
			return fmt.Errorf("the scheduler has not discovered the compute node yet")
		}
		return nil
	})
	t.Logf("the scheduler mapped the compute node to its cell (waited %s)", time.Since(start).Round(time.Second))
}

// client makes a service client of a user's.
func client(t *testing.T, newClient func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error),
	p *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	c, err := newClient(p, internal)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// floatingNetwork creates the spec's floating network, as the admin: a
// flat external network on its physnet with the floating subnet.
func (b *bed) floatingNetwork(t *testing.T, admin *gophercloud.ProviderClient) string {
	nc := client(t, openstack.NewNetworkV2, admin)
	fn := b.D.Spec.Features.Neutron.FloatingNetwork
	isExternal, noDHCP := true, false
	n, err := networks.Create(t.Context(), nc, external.CreateOptsExt{
		CreateOptsBuilder: provider.CreateOptsExt{
			CreateOptsBuilder: networks.CreateOpts{Name: "public"},
			Segments:          []provider.Segment{{NetworkType: "flat", PhysicalNetwork: fn.Physnet}},
		},
		External: &isExternal,
	}).Extract()
	if err != nil {
		t.Fatalf("creating the floating network: %v", err)
	}
	if _, err := subnets.Create(t.Context(), nc, subnets.CreateOpts{
		NetworkID: n.ID, Name: "public", IPVersion: gophercloud.IPv4, CIDR: fn.Subnet.Range,
		GatewayIP: &fn.Subnet.Gateway, EnableDHCP: &noDHCP,
		AllocationPools: []subnets.AllocationPool{{Start: fn.Subnet.PoolStart, End: fn.Subnet.PoolEnd}},
	}).Extract(); err != nil {
		t.Fatalf("creating the floating subnet: %v", err)
	}
	return n.ID
}

// createFlavor creates a flavor small enough for the guest, as the admin.
func createFlavor(t *testing.T, admin *gophercloud.ProviderClient) string {
	disk := 1
	f, err := flavors.Create(t.Context(), client(t, openstack.NewComputeV2, admin),
		flavors.CreateOpts{Name: "guest", RAM: 256, VCPUs: 1, Disk: &disk}).Extract()
	if err != nil {
		t.Fatalf("creating a flavor: %v", err)
	}
	return f.ID
}

// newUser creates a project and a user with the member role in it, and
// logs in as that user.
func (b *bed) newUser(t *testing.T, admin *gophercloud.ProviderClient) *gophercloud.ProviderClient {
	ic := client(t, openstack.NewIdentityV3, admin)
	p, err := projects.Create(t.Context(), ic, projects.CreateOpts{Name: "demo", DomainID: "default"}).Extract()
	if err != nil {
		t.Fatalf("creating a project: %v", err)
	}
	password := rand.Text()
	u, err := users.Create(t.Context(), ic, users.CreateOpts{Name: "demo", DomainID: "default", Password: password,
		DefaultProjectID: p.ID}).Extract()
	if err != nil {
		t.Fatalf("creating a user: %v", err)
	}
	page, err := roles.List(ic, roles.ListOpts{Name: "member"}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	member, err := roles.ExtractRoles(page)
	if err != nil || len(member) != 1 {
		t.Fatalf("the member role: %v, %v", member, err)
	}
	if err := roles.Assign(t.Context(), ic, member[0].ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
		t.Fatalf("making the user a member of the project: %v", err)
	}
	user, err := openstack.AuthenticatedClient(t.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: b.KeystoneURL(), Username: "demo", Password: password, DomainID: "default",
		Scope: &gophercloud.AuthScope{ProjectID: p.ID},
	})
	if err != nil {
		t.Fatalf("logging in as the user: %v", err)
	}
	return user
}

// uploadGuest uploads the guest as the user: Debian's kernel, the
// initramfs the test builds, and a machine image that names both
// (kernel_id, ramdisk_id) and the kernel's command line. The machine
// image's disk is empty: the guest lives in its initramfs. All three are
// raw: Debian's nova 26.2.2 refuses aki/ari/ami images ("Image content
// does not match disk_format": its image-format check expects "ami" where
// qemu-img finds raw).
func uploadGuest(t *testing.T, user *gophercloud.ProviderClient) string {
	ic := client(t, openstack.NewImageV2, user)
	kernelFile, modules := guestKernel(t)
	kernel, err := os.ReadFile(kernelFile)
	if err != nil {
		t.Fatal(err)
	}
	initrd := guestInitramfs(t, modules)
	t.Logf("guest: kernel %s (%d KiB), initramfs %d KiB", kernelFile, len(kernel)/1024, len(initrd)/1024)
	kernelID := uploadImage(t, ic, "guest-kernel", kernel, nil)
	ramdiskID := uploadImage(t, ic, "guest-ramdisk", initrd, nil)
	return uploadImage(t, ic, "guest", make([]byte, 1<<20), map[string]string{
		"kernel_id": kernelID, "ramdisk_id": ramdiskID,
		// The serial console, which nova logs for os-getConsoleOutput.
		"os_command_line": "console=ttyS0 no_timer_check",
	})
}

// uploadImage creates a raw image and uploads its data, and waits until
// Glance has it active.
func uploadImage(t *testing.T, ic *gophercloud.ServiceClient, name string, data []byte, properties map[string]string) string {
	img, err := images.Create(t.Context(), ic, images.CreateOpts{Name: name, ContainerFormat: "bare", DiskFormat: "raw",
		Properties: properties}).Extract()
	if err != nil {
		t.Fatalf("creating image %s: %v", name, err)
	}
	if err := imagedata.Upload(t.Context(), ic, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("uploading image %s: %v", name, err)
	}
	waitFor(t, 30*time.Second, "image "+name+" to be active", func() error {
		got, err := images.Get(t.Context(), ic, img.ID).Extract()
		if err != nil {
			return err
		}
		if got.Status != images.ImageStatusActive {
			return fmt.Errorf("image %s is %s", name, got.Status)
		}
		return nil
	})
	return img.ID
}

// tenantNetwork creates the user's network and subnet and a router that
// joins it to the floating network, and returns the network.
func tenantNetwork(t *testing.T, user *gophercloud.ProviderClient, external string) string {
	nc := client(t, openstack.NewNetworkV2, user)
	n, err := networks.Create(t.Context(), nc, networks.CreateOpts{Name: "private"}).Extract()
	if err != nil {
		t.Fatalf("creating the network: %v", err)
	}
	s, err := subnets.Create(t.Context(), nc, subnets.CreateOpts{NetworkID: n.ID, Name: "private", CIDR: tenantCIDR,
		IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		t.Fatalf("creating the subnet: %v", err)
	}
	r, err := routers.Create(t.Context(), nc, routers.CreateOpts{Name: "router",
		GatewayInfo: &routers.GatewayInfo{NetworkID: external}}).Extract()
	if err != nil {
		t.Fatalf("creating the router: %v", err)
	}
	if _, err := routers.AddInterface(t.Context(), nc, r.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract(); err != nil {
		t.Fatalf("adding the subnet to the router: %v", err)
	}
	t.Logf("network %s, subnet %s (%s), router %s with its gateway on %s", n.ID, s.ID, tenantCIDR, r.ID, external)
	return n.ID
}

// allowPing lets ICMP into the user's default security group.
func allowPing(t *testing.T, user *gophercloud.ProviderClient) {
	nc := client(t, openstack.NewNetworkV2, user)
	page, err := groups.List(nc, groups.ListOpts{Name: "default"}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	all, err := groups.ExtractGroups(page)
	if err != nil || len(all) != 1 {
		t.Fatalf("the default security group: %v, %v", all, err)
	}
	if _, err := rules.Create(t.Context(), nc, rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolICMP, SecGroupID: all[0].ID}).Extract(); err != nil {
		t.Fatalf("allowing ICMP in: %v", err)
	}
}

// serverStatus returns nil once a server has a status, and an error that
// ends the wait when it is in ERROR.
func serverStatus(t *testing.T, cc *gophercloud.ServiceClient, id, want string) error {
	s, err := servers.Get(t.Context(), cc, id).Extract()
	if err != nil {
		return err
	}
	if s.Status == "ERROR" {
		t.Fatalf("server %s is in ERROR: %+v", id, s.Fault)
	}
	if s.Status != want {
		return fmt.Errorf("server %s is %s", id, s.Status)
	}
	return nil
}

// serverHost returns the compute host nova placed a server on, which
// must be the one hypervisor.
func serverHost(t *testing.T, admin *gophercloud.ProviderClient, id string) string {
	s, err := servers.Get(t.Context(), client(t, openstack.NewComputeV2, admin), id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if s.Host == "" || s.HypervisorHostname == "" {
		t.Fatalf("server %s has no host: %q, hypervisor %q", id, s.Host, s.HypervisorHostname)
	}
	t.Logf("server %s runs on %s (hypervisor %s)", id, s.Host, s.HypervisorHostname)
	return s.Host
}

// boundPort is a port with its binding.
type boundPort struct {
	ports.Port
	portsbinding.PortsBindingExt
}

// checkPort waits until the server's port is ACTIVE, and checks it is
// bound to the server's host by the Open vSwitch driver.
func (b *bed) checkPort(t *testing.T, admin *gophercloud.ProviderClient, serverID, host string) boundPort {
	nc := client(t, openstack.NewNetworkV2, admin)
	var port boundPort
	b.Logs["neutron-ovs-agent"].WaitUntil(t, 2*time.Minute, func() error {
		all := serverPorts(t, nc, serverID)
		if len(all) != 1 {
			return fmt.Errorf("server %s has %d ports", serverID, len(all))
		}
		port = all[0]
		if port.Status != "ACTIVE" {
			return fmt.Errorf("port %s is %s", port.ID, port.Status)
		}
		return nil
	})
	if port.HostID != host || port.VIFType != "ovs" {
		t.Errorf("port %s is bound to %q with VIF type %q, want %q and ovs", port.ID, port.HostID, port.VIFType, host)
	}
	t.Logf("port %s ACTIVE, bound to %s (%s), address %+v", port.ID, port.HostID, port.VIFType, port.FixedIPs)
	return port
}

// serverPorts lists the ports of a server.
func serverPorts(t *testing.T, nc *gophercloud.ServiceClient, serverID string) []boundPort {
	page, err := ports.List(nc, ports.ListOpts{DeviceID: serverID}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var all []boundPort
	if err := ports.ExtractPortsInto(page, &all); err != nil {
		t.Fatal(err)
	}
	return all
}

// guestLine is the guest's line once it has read its metadata.
var guestLine = regexp.MustCompile(guestMarker + ` address=(\S*) uuid=(\S*)`)

// waitConsole reads the server's console log (os-getConsoleOutput) until
// the guest's line appears and returns the address and UUID it printed.
func waitConsole(t *testing.T, cc *gophercloud.ServiceClient, id string) (address, uuid string) {
	var console string
	ctx, cancel := context.WithTimeout(t.Context(), guestBoot)
	defer cancel()
	err := poll.Until(ctx, 5*time.Second, "the guest's metadata line on its console", func(context.Context) error {
		out, err := servers.ShowConsoleOutput(t.Context(), cc, id, servers.ShowConsoleOutputOpts{}).Extract()
		if err != nil {
			return err
		}
		console = out
		if m := guestLine.FindStringSubmatch(out); m != nil {
			address, uuid = m[1], m[2]
			return nil
		}
		return fmt.Errorf("no %s line yet", guestMarker)
	})
	if err != nil {
		t.Fatalf("%v\nthe console's last lines:\n%s", err, tailLines(console, 30))
	}
	t.Logf("the guest's console:\n%s", guestLines(console))
	return address, uuid
}

// guestLines are the lines the guest's init printed.
func guestLines(console string) string {
	var out []string
	for _, l := range strings.Split(console, "\n") {
		if strings.Contains(l, "osk-guest") || strings.Contains(l, guestMarker) || strings.Contains(l, "udhcpc") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, "\n")
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// floatingIP gives the server's port a floating IP, as the user, and
// checks it answers ping from the external network's far end.
func (b *bed) floatingIP(t *testing.T, user *gophercloud.ProviderClient, external, port string) {
	nc := client(t, openstack.NewNetworkV2, user)
	fip, err := floatingips.Create(t.Context(), nc, floatingips.CreateOpts{FloatingNetworkID: external, PortID: port}).Extract()
	if err != nil {
		t.Fatalf("creating a floating IP: %v", err)
	}
	start := time.Now()
	b.Logs["neutron-l3-agent"].WaitUntil(t, 2*time.Minute, func() error {
		f, err := floatingips.Get(t.Context(), nc, fip.ID).Extract()
		if err != nil {
			return err
		}
		if f.Status != "ACTIVE" {
			return fmt.Errorf("floating IP %s is %s", f.FloatingIP, f.Status)
		}
		// busybox-static's ping: the guest's busybox, no other package.
		return exec.Command("ip", "netns", "exec", b.externalNS, "busybox", "ping", "-c", "1", "-W", "2", f.FloatingIP).Run()
	})
	t.Logf("floating IP %s ACTIVE and answering ping from the external network after %s", fip.FloatingIP,
		time.Since(start).Round(time.Second))
}

// deleteServer deletes the server as its user and checks that Neutron
// deletes its port and placement its allocation.
func (b *bed) deleteServer(t *testing.T) {
	if b.server == nil {
		t.Fatal("no server to delete")
	}
	cc := client(t, openstack.NewComputeV2, b.server.user)
	if err := servers.Delete(t.Context(), cc, b.server.id).ExtractErr(); err != nil {
		t.Fatalf("deleting the server: %v", err)
	}
	admin := b.Admin()
	nc := client(t, openstack.NewNetworkV2, admin)
	pc := client(t, openstack.NewPlacementV1, admin)
	start := time.Now()
	b.Logs["nova-compute"].WaitUntil(t, 2*time.Minute, func() error {
		_, err := servers.Get(t.Context(), cc, b.server.id).Extract()
		if !gophercloud.ResponseCodeIs(err, 404) {
			return fmt.Errorf("server %s still there: %v", b.server.id, err)
		}
		if all := serverPorts(t, nc, b.server.id); len(all) != 0 {
			return fmt.Errorf("server %s gone, its port %s still there", b.server.id, all[0].ID)
		}
		a, err := allocations.Get(t.Context(), pc, b.server.id).Extract()
		if err != nil {
			return err
		}
		if len(a.Allocations) != 0 {
			return fmt.Errorf("server %s gone, its allocation still there: %+v", b.server.id, a.Allocations)
		}
		return nil
	})
	if _, err := ports.Get(t.Context(), nc, b.server.port).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("port %s of the deleted server: %v, want 404", b.server.port, err)
	}
	t.Logf("server, port and allocation gone %s after the delete", time.Since(start).Round(time.Second))
}

// waitFor polls ready every second until it returns nil, failing t with
// its last error after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, ready func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := poll.Until(ctx, time.Second, what, func(context.Context) error { return ready() }); err != nil {
		t.Fatal(err)
	}
}
