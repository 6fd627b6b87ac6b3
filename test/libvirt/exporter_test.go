package libvirt_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/monitoringtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// debianExporter is Debian's libvirt exporter (Kumina's 0.2.0): it
// stands in for the image's /opt/libvirt-exporter, the same exporter's
// build, with the rendered flags.
const debianExporter = "/usr/bin/prometheus-libvirt-exporter"

// novaDomain is a domain as nova-compute defines one, with nova's
// metadata, on QEMU without acceleration and without a disk.
const novaDomain = `<domain type='qemu'>
  <name>` + domainName + `</name>
  <uuid>6f1a4f0e-2c1b-4a39-9d3e-0c6b3f1d2a11</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:name>bed-server</nova:name>
      <nova:flavor name="m1.bed"><nova:memory>64</nova:memory><nova:vcpus>1</nova:vcpus></nova:flavor>
      <nova:owner>
        <nova:user uuid="0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e">demo</nova:user>
        <nova:project uuid="1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f">bed-project</nova:project>
      </nova:owner>
    </nova:instance>
  </metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>`

// TestExporter starts libvirtd from osk's rendered DaemonSet (StackLight
// on) and, beside it, the libvirt exporter from the pod's rendered
// exporter container, as its securityContext says (nobody, through the
// read-only socket in the socket directory, which is all it mounts):
// libvirt_up is 1 and a running domain with nova's metadata is reported
// with nova's labels. Prometheus, scraping as the rendered PodMonitor
// says, sees libvirt_up; stopping libvirtd turns it 0 and LibvirtDown
// pending.
func TestExporter(t *testing.T) {
	proctest.Need(t, "prometheus-libvirt-exporter", debianExporter)
	proctest.Need(t, "util-linux", "setpriv")
	proctest.Need(t, "qemu-system-x86", "qemu-system-x86_64")
	n := startLibvirtd(t)
	start := time.Now()
	sockets := filepath.Join(n.Root, cloudtest.HostDir, "run", "libvirt")
	// nobody reaches the socket directory through the test's directories.
	for dir := sockets; dir != "/"; dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	domain := filepath.Join(t.TempDir(), "domain.xml")
	if err := os.WriteFile(domain, []byte(novaDomain), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := virshLocal(sockets, "define", domain); err != nil {
		t.Fatalf("defining a domain: %v\n%s", err, out)
	}
	// The exporter reports running domains only: start it (QEMU without
	// acceleration, no disk: it idles at its firmware). Its QEMU leaves
	// libvirtd's process group: destroyed before libvirtd stops.
	if out, err := virshLocal(sockets, "start", domainName); err != nil {
		t.Fatalf("starting the domain: %v\n%s", err, out)
	}
	t.Cleanup(func() { killQEMU(t, sockets) })
	wrap := n.Wrap
	n.Wrap = func(object string, p cloudtest.Process) cloudtest.Process {
		if filepath.Base(p.Argv[0]) != "libvirt-exporter" {
			return wrap(object, p)
		}
		p.Argv = append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", debianExporter}, p.Argv[1:]...)
		return p
	}
	url := fmt.Sprintf("http://%s:%d/metrics", n.IP("libvirt-libvirtd"), catalog.LibvirtExporterPort)
	n.StartContainer(libvirtd, "exporter", cloudtest.Answers(url))
	t.Logf("the exporter answers after %s", time.Since(start).Round(time.Millisecond))

	families := scrape(t, url)
	if up := families["libvirt_up"]; up == nil || up.Metric[0].GetGauge().GetValue() != 1 {
		t.Fatalf("libvirt_up is not 1: %v", up)
	}
	checkDomain(t, families)
	if out, err := virshLocal(sockets, "destroy", domainName); err != nil {
		t.Fatalf("destroying the domain: %v\n%s", err, out)
	}
	checkScrapedDown(t, n, url)
}

// killQEMU kills the domain's QEMU if it still runs (libvirtd gone
// before it could destroy the domain): its pid file is libvirt's.
func killQEMU(t *testing.T, sockets string) {
	b, err := os.ReadFile(filepath.Join(sockets, "qemu", domainName+".pid"))
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 1 {
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			t.Logf("killed the domain's QEMU, pid %d", pid)
		}
	}
}

// novaLabels are the labels the exporter gives novaDomain's series:
// libvirt's name and uuid, and nova's metadata.
var novaLabels = map[string]string{"domain": domainName, "uuid": "6f1a4f0e-2c1b-4a39-9d3e-0c6b3f1d2a11",
	"name": "bed-server", "flavor": "m1.bed", "project_name": "bed-project"}

// checkDomain: the running domain's vCPUs are reported with its name and
// nova's metadata as labels.
func checkDomain(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	f := families["libvirt_domain_info_virtual_cpus"]
	if f == nil || len(f.Metric) != 1 {
		t.Fatalf("libvirt_domain_info_virtual_cpus: %v, want the one domain", f)
	}
	got := map[string]string{}
	for _, l := range f.Metric[0].Label {
		got[l.GetName()] = l.GetValue()
	}
	if !maps.Equal(got, novaLabels) || f.Metric[0].GetGauge().GetValue() != 1 {
		t.Fatalf("libvirt_domain_info_virtual_cpus %v = %v, want %v = 1", got, f.Metric[0].GetGauge().GetValue(), novaLabels)
	}
	t.Logf("libvirt_domain_info_virtual_cpus %v 1", got)
}

// checkScrapedDown: Prometheus scrapes the exporter as osk's PodMonitor
// says, with osk's rules; once libvirtd stops, the exporter says
// libvirt_up 0 and LibvirtDown is pending (its for is 2m, which the bed
// does not wait out).
func checkScrapedDown(t *testing.T, n *node, url string) {
	t.Helper()
	pm, ok := n.ByName["PodMonitor/zed-libvirt-libvirtd"].(*monitoringv1.PodMonitor)
	if !ok {
		t.Fatal("no PodMonitor zed-libvirt-libvirtd rendered")
	}
	rule, ok := n.ByName["PrometheusRule/zed"+monitoring.RuleSuffix].(*monitoringv1.PrometheusRule)
	if !ok {
		t.Fatal("no PrometheusRule rendered")
	}
	groups := slices.DeleteFunc(slices.Clone(rule.Spec.Groups), func(g monitoringv1.RuleGroup) bool { return g.Name != "osk-libvirt" })
	rules, err := monitoring.RuleFile(groups)
	if err != nil {
		t.Fatal(err)
	}
	hook := monitoringtest.StartWebhook(t)
	am := monitoringtest.StartAlertmanager(t, hook.Receiving(monitoring.AlertmanagerInhibitRules()))
	target := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics")
	prom := monitoringtest.StartPrometheus(t, rules, monitoringtest.ScrapeConfigs(pm, n.D.Namespace, map[string]string{"libvirt-libvirtd-x": target}), am.URL, time.Second)
	query := func(q string, want int) func() error {
		return func() error {
			got, err := prom.Query(q)
			if err == nil && len(got) != want {
				err = fmt.Errorf("%s: %d series, want %d: %v", q, len(got), want, got)
			}
			return err
		}
	}
	sel := fmt.Sprintf(`namespace=%q,osk_target="libvirt",pod="libvirt-libvirtd-x"`, n.D.Namespace)
	n.server.WaitUntil(t, time.Minute, query(fmt.Sprintf(`libvirt_up{%s} == 1`, sel), 1))
	stopped := time.Now()
	n.server.Kill(t)
	n.server.WaitUntil(t, time.Minute, query(fmt.Sprintf(`libvirt_up{%s} == 0`, sel), 1))
	n.server.WaitUntil(t, time.Minute, query(fmt.Sprintf(`ALERTS{alertname="LibvirtDown",alertstate="pending",%s}`, sel), 1))
	t.Logf("libvirtd stopped: libvirt_up 0 and LibvirtDown pending after %s", time.Since(stopped).Round(time.Second))
}

// domainName is novaDomain's name.
const domainName = "instance-00000001"

// virshLocal runs virsh against libvirtd's read-write socket in the
// test's socket directory.
func virshLocal(sockets string, args ...string) (string, error) {
	out, err := exec.Command("virsh", append([]string{"-c", "qemu:///system?socket=" + filepath.Join(sockets, "libvirt-sock")}, args...)...).CombinedOutput()
	return string(out), err
}

// scrape reads the exporter's metrics.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("parsing %s: %v\n%s", url, err, b)
	}
	return families
}
