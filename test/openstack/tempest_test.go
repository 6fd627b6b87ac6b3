package openstack_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"
	appsv1 "k8s.io/api/apps/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/oslo"
	"github.com/oskproject/osk/internal/testing/cloudtest"
)

// explainedSkips are the reasons a Tempest test may be skipped on this
// bed: each names a feature osk does not deploy here, or one Tempest's
// own configuration leaves off by default. Any other skip fails the run.
var explainedSkips = []*regexp.Regexp{
	// Services this bed does not run (no agents, no cinder-api, no Swift).
	regexp.MustCompile(`(?i)(cinder|swift|volume|object.storage|octavia|designate|heat|barbican|aodh|gnocchi|ceilometer|horizon) .*(not available|is not enabled|disabled)`),
	regexp.MustCompile(`(?i)not (available|enabled|supported|configured)`),
	regexp.MustCompile(`(?i)extension .* (not enabled|is not enabled)`),
	regexp.MustCompile(`(?i)(no|requires?) .*(agent|compute node|hypervisor)`),
	regexp.MustCompile(`(?i)microversion`),
	regexp.MustCompile(`(?i)ipv6`),
	regexp.MustCompile(`(?i)(feature|test) is disabled`),
	regexp.MustCompile(`(?i)(security_compliance|domain_specific_drivers|access_rules|project_tags|application_credentials)`),
	regexp.MustCompile(`(?i)(public_network_id|floating)`),
}

// runTempest runs the rendered tempest Job, exactly its command, against
// the bed's APIs, and checks what it reports and leaves behind.
func runTempest(t *testing.T, c *cloud) {
	c.T = t
	start := time.Now()
	c.RunJob("tempest-run")
	t.Logf("tempest: the Job took %s", time.Since(start).Round(time.Second))
	ws := filepath.Join(c.Root, "tempest-run", "var", "lib", "tempest", "workspace")
	var res v1.TempestResult
	b, err := os.ReadFile(filepath.Join(ws, jobs.ResultsSummary))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("summary %s: %v", b, err)
	}
	runs := readResults(t, ws)
	t.Logf("tempest: %s, %d passed, %d failed, %d skipped", res.Result, res.Passed, res.Failed, res.Skipped)
	logAreas(t, runs)
	for _, r := range runs {
		switch {
		case r.Failed():
			t.Errorf("tempest: %s failed:\n%s", r.ID, tail(r.Details, 30))
		case r.Status == jobs.StatusSkip && !explained(r.Details):
			t.Errorf("tempest: %s skipped for a reason no feature explains: %s", r.ID, r.Details)
		}
	}
	if res.Result != v1.TempestPassed || res.Failed != 0 || res.Passed < 250 {
		t.Errorf("tempest: summary %+v, want Passed with no failure and at least 250 tests passed", res)
	}
	if _, err := os.Stat(filepath.Join(ws, jobs.ResultsJUnit)); err != nil {
		t.Errorf("tempest: no JUnit results: %v", err)
	}
	checkRunConfig(t, c, filepath.Join(ws, "etc", jobs.RunConfig))
	checkTempestCleanedUp(t, c)
}

// readResults reads the run's subunit stream from the workspace.
func readResults(t *testing.T, ws string) []jobs.TestRun {
	t.Helper()
	f, err := os.Open(filepath.Join(ws, jobs.ResultsSubunit))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runs, err := jobs.ReadSubunit(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// area is a test's API and resource: tempest.api.network.test_ports
// gives "network/ports".
var area = regexp.MustCompile(`^tempest\.api\.([a-z0-9_]+)\.(?:v\d+\.)?(?:admin\.)?(?:test_)?([a-z0-9_]+)`)

// logAreas logs the counts per area, for the note.
func logAreas(t *testing.T, runs []jobs.TestRun) {
	counts := map[string]*[3]int{}
	for _, r := range runs {
		key := "other"
		// A class's setup reports as "setUpClass (tempest.api....)".
		id := strings.TrimPrefix(r.ID, "setUpClass (")
		if m := area.FindStringSubmatch(id); m != nil {
			key = m[1]
		}
		if counts[key] == nil {
			counts[key] = &[3]int{}
		}
		switch {
		case r.Passed():
			counts[key][0]++
		case r.Failed():
			counts[key][1]++
		default:
			counts[key][2]++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		c := counts[k]
		t.Logf("tempest: %-10s %3d passed, %d failed, %2d skipped", k, c[0], c[1], c[2])
	}
	reasons := map[string]int{}
	for _, r := range runs {
		if r.Status == jobs.StatusSkip {
			reasons[strings.TrimSpace(firstLine(r.Details))]++
		}
	}
	for _, why := range slices.Sorted(maps.Keys(reasons)) {
		t.Logf("tempest: skipped %2d: %s", reasons[why], why)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func explained(reason string) bool {
	for _, re := range explainedSkips {
		if re.MatchString(reason) {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// checkRunConfig checks what the Job added to tempest.conf: the IDs of
// what it created, and the microversions nova-api and placement serve.
func checkRunConfig(t *testing.T, c *cloud, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := oslo.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range [][2]string{{"compute", "flavor_ref"}, {"compute", "flavor_ref_alt"}, {"compute", "image_ref"}, {"network", "public_network_id"}} {
		if v, _ := conf.Get(o[0], o[1]); v == "" {
			t.Errorf("tempest.conf: [%s] %s not set", o[0], o[1])
		}
	}
	admin := c.Admin()
	eo := gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal}
	for section, client := range map[string]func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error){
		"compute": openstack.NewComputeV2, "placement": openstack.NewPlacementV1,
	} {
		sc, err := client(admin, eo)
		if err != nil {
			t.Fatal(err)
		}
		mv, err := utils.GetSupportedMicroversions(t.Context(), sc)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%d.%d", mv.MaxMajor, mv.MaxMinor)
		if got, _ := conf.Get(section, "max_microversion"); got != want {
			t.Errorf("tempest.conf: [%s] max_microversion = %q, the API serves up to %s", section, got, want)
		}
	}
}

// checkTempestCleanedUp checks that the flavors, image and public network
// the Job created are gone.
func checkTempestCleanedUp(t *testing.T, c *cloud) {
	admin := c.Admin()
	eo := gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal}
	compute, _ := openstack.NewComputeV2(admin, eo)
	pages, err := flavors.ListDetail(compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fl, _ := flavors.ExtractFlavors(pages)
	for _, f := range fl {
		if f.Name == jobs.TempestFlavor || f.Name == jobs.TempestFlavorAlt {
			t.Errorf("flavor %s is left after the run", f.Name)
		}
	}
	image, _ := openstack.NewImageV2(admin, eo)
	pages, err = images.List(image, images.ListOpts{Name: jobs.TempestImage}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ims, _ := images.ExtractImages(pages); len(ims) > 0 {
		t.Errorf("image %s is left after the run", jobs.TempestImage)
	}
	network, _ := openstack.NewNetworkV2(admin, eo)
	pages, err = networks.List(network, networks.ListOpts{Name: jobs.TempestPublicNetwork}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ns, _ := networks.ExtractNetworks(pages); len(ns) > 0 {
		t.Errorf("network %s is left after the run", jobs.TempestPublicNetwork)
	}
}

// checkListeners fails on any port of the started Deployments that a
// process listens on at the wildcard address: every listener osk renders
// names its address, which the bed rewrites to the component's own.
func checkListeners(t *testing.T, c *cloud) {
	wanted := map[int]string{}
	for _, a := range cloudtest.CoreAPIs {
		d := c.ByName["Deployment/"+a.Deployment].(*appsv1.Deployment)
		for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
			wanted[int(p.ContainerPort)] = a.Deployment
		}
	}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "0A" { // LISTEN
				continue
			}
			addr, port, _ := strings.Cut(f[1], ":")
			var n int
			fmt.Sscanf(port, "%X", &n)
			if owner, ok := wanted[n]; ok && strings.Trim(addr, "0") == "" {
				t.Errorf("%s: something listens on the wildcard address at port %d (%s)", owner, n, file)
			}
		}
	}
}
