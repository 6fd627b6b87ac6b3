package monitoring_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/monitoringtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// exporterObject is the rendered osk exporter.
const exporterObject = "Deployment/stacklight-exporter"

// TestExporterAPIDown: keystone, placement, glance, neutron-server and
// nova-api run from osk's files (cloudtest), with nova-scheduler and
// nova-conductor as their Deployments run them, a nova-compute on nova's
// fake virt driver and neutron's metadata agent; the exporter's Keystone
// user is registered by its rendered job with the reader and monitoring
// roles only, and the rendered osk exporter (the built binary) watches
// them, scraped by Prometheus as its rendered PodMonitor says, with osk's
// rules. Every internal endpoint is up; through osk's policy files the
// exporter reads nova's services and hypervisors, neutron's agents and
// placement's capacity, and its user is still refused disabling a
// service. Stopping glance-api fires OpenStackAPIDown for glance at the
// Alertmanager webhook, and starting it again resolves it; stopping
// nova-conductor at the same time makes the exporter report it down and
// NovaControlServiceDown pending.
func TestExporterAPIDown(t *testing.T) {
	for _, pkg := range [][2]string{{"keystone", "keystone-manage"}, {"placement-api", "placement-manage"}, {"glance-api", "glance-manage"},
		{"neutron-server", "neutron-db-manage"}, {"nova-api", "nova-manage"}, {"uwsgi-plugin-python3", "uwsgi"}} {
		proctest.Need(t, pkg[0], pkg[1])
	}
	osk, cleanup, err := cloudtest.BuildOsk()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	c := cloudtest.New(t, filepath.Join("testdata", "exporter.yaml"), osk)
	apis := map[string]cloudtest.API{}
	for _, a := range cloudtest.CoreAPIs {
		c.StartAPI(a)
		apis[a.Service] = a
	}
	c.RunJob("stacklight-keystone-register")
	checkReaderOnly(t, c)

	// The Kubernetes collector is left out here: no API server holds this
	// deployment (the sandbox tests cover the exporter's Role).
	c.Wrap = func(object string, p cloudtest.Process) cloudtest.Process {
		if object == exporterObject {
			p.Argv = slices.DeleteFunc(p.Argv, func(a string) bool {
				return strings.HasPrefix(a, "--namespace=") || strings.HasPrefix(a, "--deployment=") || strings.HasPrefix(a, "--secret=")
			})
		}
		return p
	}
	metrics := fmt.Sprintf("%s:%d", c.IP("stacklight-exporter"), catalog.ExporterPort)
	c.Start(exporterObject, cloudtest.Answers("http://"+metrics+"/healthz"))

	pm, ok := c.ByName["PodMonitor/zed-stacklight-exporter"].(*monitoringv1.PodMonitor)
	if !ok {
		t.Fatal("no PodMonitor zed-stacklight-exporter rendered")
	}
	rule, ok := c.ByName["PrometheusRule/zed"+monitoring.RuleSuffix].(*monitoringv1.PrometheusRule)
	if !ok {
		t.Fatal("no PrometheusRule rendered")
	}
	hook := monitoringtest.StartWebhook(t)
	am := monitoringtest.StartAlertmanager(t, hook.Receiving(monitoring.AlertmanagerInhibitRules()))
	// No Galera exporter runs here: GaleraClusterDown (absent()) would
	// fire and, as designed, inhibit every API alert of the namespace.
	groups := slices.DeleteFunc(slices.Clone(rule.Spec.Groups), func(g monitoringv1.RuleGroup) bool { return g.Name == "osk-galera" })
	rules, err := monitoring.RuleFile(groups)
	if err != nil {
		t.Fatal(err)
	}
	prom := monitoringtest.StartPrometheus(t, rules,
		monitoringtest.ScrapeConfigs(pm, c.D.Namespace, map[string]string{"stacklight-exporter-0": metrics}), am.URL, interval)

	ns := c.D.Namespace
	waitFor(t, 2*time.Minute, "every internal endpoint up", func() error {
		got, err := prom.Query(fmt.Sprintf(`osk_openstack_api_up{namespace=%q,osk_target="openstack-exporter",interface="internal"} == 1`, ns))
		if err == nil && len(got) != len(cloudtest.CoreAPIs) {
			err = fmt.Errorf("%d internal endpoints up, want %d: %v", len(got), len(cloudtest.CoreAPIs), got)
		}
		return err
	})
	logSeries(t, prom, ns)
	services := time.Now()
	startNovaServices(t, c)
	checkServiceSeries(t, prom, ns)
	checkWriteRefused(t, c)
	t.Logf("nova's services started and their series checked in %s", time.Since(services).Round(time.Second))

	glance := c.Logs["glance-api"]
	stopped := time.Now()
	glance.Kill(t)
	c.Logs["nova-conductor"].Kill(t)
	checkConductorDown(t, prom, ns, stopped)
	waitFor(t, 4*time.Minute, "OpenStackAPIDown for glance at the webhook", func() error {
		if n, ok := hook.Find("OpenStackAPIDown", "firing"); ok && n.Labels["service"] == "glance" {
			t.Logf("OpenStackAPIDown received %s after glance-api stopped (for: 2m): %s", n.Received.Sub(stopped).Round(time.Second), n.Annotations["summary"])
			return nil
		}
		return fmt.Errorf("received so far: %v", hook.Names("firing"))
	})
	if n, ok := hook.Find("OpenStackAPIDown", "firing"); ok && n.Labels["service"] != "glance" {
		t.Errorf("OpenStackAPIDown fired for %s too", n.Labels["service"])
	}

	restarted := time.Now()
	a := apis["image"]
	c.StartDeployment(a.Deployment, a.Port, cloudtest.Answers(c.URL(a)))
	waitFor(t, 2*time.Minute, "OpenStackAPIDown resolved at the webhook", func() error {
		if n, ok := hook.Find("OpenStackAPIDown", "resolved"); ok && n.Labels["service"] == "glance" {
			t.Logf("resolved %s after glance-api restarted", n.Received.Sub(restarted).Round(time.Second))
			return nil
		}
		return fmt.Errorf("not resolved yet")
	})
}

// logSeries logs what the exporter reported besides the endpoints: the
// collectors' health, and the services and capacity it could read.
func logSeries(t *testing.T, prom *monitoringtest.Prometheus, ns string) {
	t.Helper()
	for _, q := range []string{"osk_exporter_collector_up", "osk_openstack_agent_up", "osk_openstack_placement_capacity",
		`osk_openstack_api_latency_seconds{interface="internal"}`} {
		got, err := prom.Query(fmt.Sprintf(`%s{namespace=%q}`, q, ns))
		if strings.Contains(q, "{") {
			got, err = prom.Query(strings.Replace(q, "{", fmt.Sprintf("{namespace=%q,", ns), 1))
		}
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		t.Logf("%s: %d series: %v", q, len(got), got)
	}
}

// checkReaderOnly: the exporter's Keystone user holds the reader and
// monitoring roles in the service project, and no other.
func checkReaderOnly(t *testing.T, c *cloudtest.Cloud) {
	t.Helper()
	identity, err := openstack.NewIdentityV3(c.Admin(), gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := users.List(identity, users.ListOpts{Name: catalog.ExporterUser}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found, err := users.ExtractUsers(page)
	if err != nil || len(found) != 1 {
		t.Fatalf("user %s: %v, %d found", catalog.ExporterUser, err, len(found))
	}
	page, err = roles.ListAssignments(identity, roles.ListAssignmentsOpts{UserID: found[0].ID, IncludeNames: new(true)}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	assigned, err := roles.ExtractRoleAssignments(page)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range assigned {
		names = append(names, a.Role.Name+" on "+a.Scope.Project.Name)
	}
	slices.Sort(names)
	want := []string{catalog.MonitoringRole + " on service", catalog.ExporterRole + " on service"}
	if !slices.Equal(names, want) {
		t.Fatalf("%s holds %v, want only %v", catalog.ExporterUser, names, want)
	}
}
