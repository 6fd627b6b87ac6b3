package monitoring_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/agents"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/monitoringtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// internal selects the catalog's internal endpoints.
var internal = cloudtest.Internal

// startNovaServices starts nova-scheduler and nova-conductor as their
// rendered Deployments run them, and nova-compute with nova's fake virt
// driver (startFakeCompute), each until nova lists it up; and neutron's
// metadata agent as its DaemonSet runs it (the one agent that needs no
// Open vSwitch), until neutron lists it alive.
func startNovaServices(t *testing.T, c *cloudtest.Cloud) {
	t.Helper()
	start := time.Now()
	c.Start("Deployment/nova-scheduler", c.ComputeServiceUp("nova-scheduler"))
	c.Start("Deployment/nova-conductor", c.ComputeServiceUp("nova-conductor"))
	startFakeCompute(t, c)
	t.Logf("nova-scheduler, nova-conductor and nova-compute (fake driver) up after %s", time.Since(start).Round(time.Second))
	c.Start("DaemonSet/neutron-metadata-agent", c.AgentAlive(agents.ListOpts{Binary: "neutron-metadata-agent"}))
}

// fakeComputeHost is the host the fake-driver nova-compute reports.
const fakeComputeHost = "fake-compute-0"

// startFakeCompute runs Debian's nova-compute with the control plane's
// rendered nova.conf (nova-conductor's files) and, layered over it, nova's
// fake virt driver (nova.virt.fake.FakeDriver): a stand-in for libvirt
// and QEMU, which test/compute runs for real, so that nova reports a real
// compute service and hypervisor and placement holds a real resource
// provider with its inventory, without a hypervisor's cost here.
func startFakeCompute(t *testing.T, c *cloudtest.Cloud) {
	t.Helper()
	proctest.Need(t, "nova-compute", "nova-compute")
	d, ok := c.ByName["Deployment/nova-conductor"].(*appsv1.Deployment)
	if !ok {
		t.Fatal("no Deployment nova-conductor rendered")
	}
	p := c.Prepare("nova-conductor", &d.Spec.Template.Spec)
	if filepath.Base(p.Argv[0]) != "nova-conductor" {
		t.Fatalf("nova-conductor's command is %v", p.Argv)
	}
	fake := filepath.Join(c.Root, "nova-compute-fake.conf")
	instances := filepath.Join(c.Root, "fake-instances")
	conf := fmt.Sprintf("[DEFAULT]\ncompute_driver = fake.FakeDriver\nhost = %s\ninstances_path = %s\n", fakeComputeHost, instances)
	if err := os.WriteFile(fake, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"nova-compute"}, p.Argv[1:]...)
	argv = append(argv, "--config-file", fake)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = p.Env, c.Root
	proc := proctest.Start(c.Top, c.Root, "nova-compute-fake", cmd)
	c.Logs["nova-compute-fake"] = proc
	proc.WaitUntil(t, 3*time.Minute, c.ComputeServiceUp("nova-compute"))
}

// checkServiceSeries waits until the exporter, as its own user, reports
// every service read: the collector succeeds, nova's conductor, scheduler
// and compute and neutron's metadata agent are up, the hypervisor is up,
// and placement's capacity of the fake node is there.
func checkServiceSeries(t *testing.T, prom *monitoringtest.Prometheus, ns string) {
	t.Helper()
	sel := fmt.Sprintf(`namespace=%q,osk_target="openstack-exporter"`, ns)
	checks := []struct{ what, query string }{
		{"the services collector succeeds", fmt.Sprintf(`osk_exporter_collector_up{%s,collector="services"} == 1`, sel)},
		{"nova-conductor up", fmt.Sprintf(`osk_openstack_agent_up{%s,service="compute",binary="nova-conductor"} == 1`, sel)},
		{"nova-scheduler up", fmt.Sprintf(`osk_openstack_agent_up{%s,service="compute",binary="nova-scheduler"} == 1`, sel)},
		{"nova-compute up", fmt.Sprintf(`osk_openstack_agent_up{%s,service="compute",binary="nova-compute",host=%q} == 1`, sel, fakeComputeHost)},
		{"neutron's metadata agent up", fmt.Sprintf(`osk_openstack_agent_up{%s,service="network",binary="neutron-metadata-agent"} == 1`, sel)},
		{"the hypervisor up", fmt.Sprintf(`osk_openstack_hypervisor_up{%s} == 1`, sel)},
		{"placement's VCPU capacity", fmt.Sprintf(`osk_openstack_placement_capacity{%s,resource_class="VCPU"} > 0`, sel)},
		{"placement's memory used", fmt.Sprintf(`osk_openstack_placement_used{%s,resource_class="MEMORY_MB"} >= 0`, sel)},
	}
	for _, ch := range checks {
		waitFor(t, 2*time.Minute, ch.what, func() error {
			got, err := prom.Query(ch.query)
			if err == nil && len(got) == 0 {
				err = fmt.Errorf("no sample of %s", ch.query)
			}
			if err == nil {
				t.Logf("%s: %v", ch.what, got)
			}
			return err
		})
	}
}

// checkWriteRefused: the exporter's user may read nova's services but
// not disable one.
func checkWriteRefused(t *testing.T, c *cloudtest.Cloud) {
	t.Helper()
	p, err := openstack.AuthenticatedClient(t.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: c.KeystoneURL(), Username: catalog.ExporterUser,
		Password: c.Creds.Value(catalog.CredentialSecret("stacklight"), catalog.KeyKeystonePassword),
		DomainID: "default", TenantName: "service",
	})
	if err != nil {
		t.Fatalf("logging in as %s: %v", catalog.ExporterUser, err)
	}
	cc, err := openstack.NewComputeV2(p, internal)
	if err != nil {
		t.Fatal(err)
	}
	cc.Microversion = "2.53"
	page, err := services.List(cc, services.ListOpts{Binary: "nova-compute"}).AllPages(t.Context())
	if err != nil {
		t.Fatalf("%s lists nova's services: %v", catalog.ExporterUser, err)
	}
	all, err := services.ExtractServices(page)
	if err != nil || len(all) == 0 {
		t.Fatalf("%s lists no nova-compute: %v", catalog.ExporterUser, err)
	}
	_, err = services.Update(t.Context(), cc, all[0].ID, services.UpdateOpts{Status: services.ServiceDisabled}).Extract()
	if !gophercloud.ResponseCodeIs(err, 403) {
		t.Fatalf("%s disabling nova-compute on %s: got %v, want 403 Forbidden", catalog.ExporterUser, all[0].Host, err)
	}
	t.Logf("%s may list nova's services and is refused disabling one: %s", catalog.ExporterUser, firstLine(err.Error()))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// checkConductorDown waits until the exporter reports the stopped
// nova-conductor down and Prometheus holds NovaControlServiceDown pending
// for it (its for is 5m, which the bed does not wait out).
func checkConductorDown(t *testing.T, prom *monitoringtest.Prometheus, ns string, stopped time.Time) {
	t.Helper()
	sel := fmt.Sprintf(`namespace=%q,binary="nova-conductor"`, ns)
	waitFor(t, 3*time.Minute, "nova-conductor reported down", func() error {
		got, err := prom.Query(fmt.Sprintf(`osk_openstack_agent_up{%s} == 0`, sel))
		if err == nil && len(got) == 0 {
			err = fmt.Errorf("nova-conductor not reported down yet")
		}
		return err
	})
	t.Logf("nova-conductor reported down %s after it stopped (nova's service_down_time is 60s)", time.Since(stopped).Round(time.Second))
	waitFor(t, time.Minute, "NovaControlServiceDown pending", func() error {
		got, err := prom.Query(fmt.Sprintf(`ALERTS{alertname="NovaControlServiceDown",%s}`, sel))
		if err == nil && len(got) == 0 {
			err = fmt.Errorf("no NovaControlServiceDown alert for nova-conductor")
		}
		if err == nil {
			t.Logf("NovaControlServiceDown %s after %s: %v", got[0]["alertstate"], time.Since(stopped).Round(time.Second), got[0])
		}
		return err
	})
}
