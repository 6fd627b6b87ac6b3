package compute_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/agents"

	"github.com/oskproject/osk/internal/testing/cloudtest"
)

// internal is how the test reaches the APIs: on their internal
// endpoints, the loopback addresses of the bed.
var internal = cloudtest.Internal

// externalGateway is the floating network's gateway (testdata/zed.yaml),
// which the test's namespace at the far end of the external veth holds.
const externalGateway = "203.0.113.1/24"

// externalInterface makes the test's link to the external network: a
// veth pair whose far end, in a network namespace of the test's, holds
// the floating network's gateway address. It returns the near end's
// name, which the OVS agent plugs into the external network's bridge,
// and the namespace's.
func externalInterface(t *testing.T) (string, string) {
	t.Helper()
	id := fmt.Sprintf("%04x", rand.IntN(1<<16))
	near, far, ns := "osk"+id+"x0", "osk"+id+"x1", "osk-ext-"+id
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", near).Run()
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"link", "add", near, "type", "veth", "peer", "name", far, "netns", ns},
		{"link", "set", near, "up"},
		{"-n", ns, "addr", "add", externalGateway, "dev", far},
		{"-n", ns, "link", "set", far, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return near, ns
}

// networkNode starts Open vSwitch (ovsdb-server, then ovs-vswitchd on
// the userspace datapath) and Neutron's OVS, DHCP, L3 and metadata
// agents, each as its DaemonSet runs it, and waits until Neutron lists
// each agent alive.
func (b *bed) networkNode(t *testing.T) {
	run := filepath.Join(b.Root, cloudtest.HostDir, "run", "openvswitch")
	b.StartContainer("DaemonSet/openvswitch-vswitchd", "ovsdb-server", exists(filepath.Join(run, "db.sock")))
	b.StartContainer("DaemonSet/openvswitch-vswitchd", "", exists(filepath.Join(run, "ovs-vswitchd.pid")))
	// The userspace datapath's bridge devices outlive ovs-vswitchd: they
	// go before it stops, once the agents have.
	b.Top.Cleanup(func() { deleteBridges(b.Top, "unix:"+filepath.Join(run, "db.sock")) })
	for _, a := range []struct{ daemonSet, agentType string }{
		{"neutron-ovs-agent", "Open vSwitch agent"},
		{"neutron-dhcp-agent", "DHCP agent"},
		{"neutron-l3-agent", "L3 agent"},
		{"neutron-metadata-agent", "Metadata agent"},
	} {
		b.RunInit("DaemonSet/" + a.daemonSet)
		b.Start("DaemonSet/"+a.daemonSet, b.AgentAlive(agents.ListOpts{AgentType: a.agentType}))
	}
}

// deleteBridges deletes every Open vSwitch bridge of a database.
func deleteBridges(t *testing.T, db string) {
	out, err := exec.Command("ovs-vsctl", "--db="+db, "list-br").Output()
	if err != nil {
		t.Errorf("listing the bridges: %v", err)
		return
	}
	for _, br := range strings.Fields(string(out)) {
		if out, err := exec.Command("ovs-vsctl", "--db="+db, "--if-exists", "del-br", br).CombinedOutput(); err != nil {
			t.Errorf("deleting bridge %s: %v\n%s", br, err, out)
		}
	}
}

// exists is ready when a file exists.
func exists(path string) func() error {
	return func() error {
		_, err := os.Stat(path)
		return err
	}
}
