// Package compute_test proves the compute and network path osk renders:
// on real OpenStack Zed services from Debian's archive, nova's scheduler,
// conductor, metadata API and nova-compute with libvirt and QEMU, Open
// vSwitch and Neutron's OVS, DHCP, L3 and metadata agents, each run with
// the command and files of its rendered workload (internal/testing/cloudtest).
package compute_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// oskBinary is the osk command the Jobs and init containers run, built
// once by TestMain.
var oskBinary string

func TestMain(m *testing.M) {
	// About twenty Python services start one after the other, the agents
	// last: on a loaded machine an agent may take minutes to report in.
	cloudtest.ReadyTimeout = 6 * time.Minute
	cloudtest.Main(m, &oskBinary)
}

// bed is testdata/zed.yaml run by cloudtest, on this one machine.
type bed struct {
	*cloudtest.Cloud
	// externalNS is the network namespace at the far end of the
	// external network's interface, which holds its gateway.
	externalNS string
	// server is the server the boot step made, for the delete step.
	server *server
}

// TestComputePath brings up the APIs, then nova's control plane, Open
// vSwitch with Neutron's agents, and libvirt with nova-compute, each from
// osk's rendered workload, and checks that each reports in: the compute
// services up, the network agents alive, the hypervisor listed and its
// resource provider in placement with inventory. Then a user boots a
// real guest, which gets its address from Neutron's DHCP agent and reads
// its metadata through Neutron's proxy from nova's metadata API, and
// deletes it.
func TestComputePath(t *testing.T) {
	need(t)
	start := time.Now()
	b := newBed(t)
	for _, a := range cloudtest.CoreAPIs {
		if !t.Run(a.Service, func(t *testing.T) { b.T = t; b.StartAPI(a) }) {
			t.Fatalf("%s did not come up; the services after it were not tried", a.Service)
		}
	}
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"nova's control plane: metadata API, scheduler and conductor up", b.novaControlPlane},
		{"open vswitch and neutron's agents alive", b.networkNode},
		{"libvirt and nova-compute: the hypervisor in nova and placement", b.computeNode},
		{"a user's server boots, gets its address by DHCP and reads its metadata", b.bootServer},
		{"deleting the server frees its port and its allocation", b.deleteServer},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { b.T = t; s.run(t) }) {
			t.Fatalf("%s failed; the steps after it were not tried", s.name)
		}
	}
	t.Logf("the compute path and its guest took %s", time.Since(start).Round(time.Second))
}

// need fails the test, naming the Debian packages, when a program of the
// compute path is missing.
func need(t *testing.T) {
	t.Helper()
	for pkg, programs := range map[string][]string{
		"keystone": {"keystone-manage"}, "placement-api": {"placement-manage"}, "glance-api": {"glance-manage"},
		"neutron-server": {"neutron-db-manage"}, "nova-api": {"nova-manage"}, "uwsgi-plugin-python3": {"uwsgi"},
		"nova-scheduler": {"nova-scheduler"}, "nova-conductor": {"nova-conductor"}, "nova-compute": {"nova-compute"},
		"libvirt-daemon-system": {"libvirtd"}, "qemu-system-x86": {"qemu-system-x86_64"},
		"openvswitch-switch":        {"ovs-vswitchd", "ovsdb-server", "ovs-vsctl"},
		"neutron-openvswitch-agent": {"neutron-openvswitch-agent"}, "neutron-dhcp-agent": {"neutron-dhcp-agent"},
		"neutron-l3-agent": {"neutron-l3-agent"}, "neutron-metadata-agent": {"neutron-metadata-agent"},
		"sudo": {"sudo"}, "iproute2": {"ip"}, "util-linux": {"unshare"},
		// The DHCP and L3 agents turn offloads off on their veths on
		// the userspace datapath (ovs_use_veth).
		"ethtool": {"ethtool"},
	} {
		proctest.Need(t, pkg, programs...)
	}
}

// newBed renders testdata/zed.yaml with the external network on a veth
// pair of the test's and starts the infrastructure.
func newBed(t *testing.T) *bed {
	t.Helper()
	b := &bed{Cloud: cloudtest.New(t, filepath.Join("testdata", "zed.yaml"), oskBinary)}
	reapLeftovers(t, b.Root)
	b.Wrap = b.inMountNamespace
	b.D.Spec.Features.Neutron.ExternalNetworks[0].Interface, b.externalNS = externalInterface(t)
	b.Render()
	return b
}

// logMemory logs the resident memory of the bed's processes: those whose
// command line names the test's directories (the guests' QEMU among
// them: their files are nova-compute's, under the bed's directory).
func logMemory(t *testing.T, dir string) {
	t.Helper()
	pids, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var kb, n int
	for _, p := range pids {
		cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), dir) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(p, "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				var k int
				if _, err := fmt.Sscan(v, &k); err == nil {
					kb, n = kb+k, n+1
				}
			}
		}
	}
	t.Logf("memory: %d processes of the bed, %d MiB resident in all", n, kb/1024)
}
