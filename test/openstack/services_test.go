// Package openstack_test proves what runs inside osk's pods: the
// configuration files and the Jobs osk renders for a real release (zed),
// run against real OpenStack services from Debian's archive on loopback.
package openstack_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"

	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// oskBinary is the osk command the Jobs run, built once by TestMain.
var oskBinary string

func TestMain(m *testing.M) { cloudtest.Main(m, &oskBinary) }

// TestZedServices brings up keystone, placement, glance, neutron-server
// and nova-api exactly as osk configures them for zed, running exactly
// the commands osk's Jobs run, each of those twice, then uses every API
// through gophercloud. Then it runs the Jobs of an upgrade from zed to
// zed (upgradeInPlace), cinder's on its database alone.
func TestZedServices(t *testing.T) {
	proctest.Need(t, "keystone", "keystone-manage")
	proctest.Need(t, "placement-api", "placement-manage")
	proctest.Need(t, "glance-api", "glance-manage")
	proctest.Need(t, "neutron-server", "neutron-db-manage")
	proctest.Need(t, "nova-api", "nova-manage")
	proctest.Need(t, "cinder-common", "cinder-manage")
	proctest.Need(t, "uwsgi-plugin-python3", "uwsgi")
	c := newCloud(t, "zed")
	// Block storage's upgrade needs its database only; it runs in the
	// background from here on (upgradeCinder).
	cinderUpgraded := c.upgradeCinder()
	for _, a := range cloudtest.CoreAPIs {
		ok := t.Run(a.Service, func(t *testing.T) {
			c.T = t
			before, after := c.StartAPI(a)
			// Every Job again: each must leave things as they were.
			was := c.snapshot()
			for _, j := range append(before, after...) {
				c.RunJob(j)
			}
			if now := c.snapshot(); now != was {
				t.Errorf("running %s's Jobs again changed the state:\nbefore:\n%s\nafter:\n%s", a.Service, was, now)
			}
		})
		if !ok {
			t.Fatalf("%s did not come up; the services after it were not tried", a.Service)
		}
	}
	c.T = t
	admin := c.Admin()
	t.Run("catalog", func(t *testing.T) {
		if err := checkCatalog(c.catalogLines(), c.registered()); err != nil {
			t.Error(err)
		}
	})
	t.Run("a missing endpoint is found and put back", func(t *testing.T) {
		removeEndpoint(t, admin, "glance", gophercloud.AvailabilityPublic)
		err := checkCatalog(c.catalogLines(), c.registered())
		if err == nil || !strings.Contains(err.Error(), "glance") {
			t.Fatalf("the check did not name glance: %v", err)
		}
		c.T = t
		c.RunJob("glance-keystone-register")
		if err := checkCatalog(c.catalogLines(), c.registered()); err != nil {
			t.Error(err)
		}
	})
	t.Run("admin credentials: system scope reads every project, project scope its own", func(t *testing.T) { checkAdminScopes(t, c) })
	t.Run("placement: a resource provider", func(t *testing.T) { createResourceProvider(t, admin) })
	t.Run("glance: an image uploaded and active", func(t *testing.T) { uploadImage(t, admin) })
	t.Run("nova: a flavor", func(t *testing.T) { createFlavor(t, admin) })
	t.Run("neutron: a network and a subnet", func(t *testing.T) { createNetwork(t, admin) })
	t.Run("every API listens on its own address only", func(t *testing.T) { checkListeners(t, c) })
	t.Run("tempest: the acceptance run passes", func(t *testing.T) { runTempest(t, c) })
	t.Run("upgrade from zed to zed", func(t *testing.T) { upgradeInPlace(t, c, cinderUpgraded) })
	t.Run("a failing upgrade step names its Job, command and output", func(t *testing.T) { failingStep(t, c) })
}

// registered returns every API the rendered keystone-register Jobs
// register, with loopback addresses, and keystone's own from bootstrap.
func (c *cloud) registered() []jobs.KeystoneEndpoint {
	c.T.Helper()
	var out []jobs.KeystoneEndpoint
	for _, a := range cloudtest.CoreAPIs {
		if a.Service == "identity" {
			out = append(out, jobs.KeystoneEndpoint{Type: "identity", Name: "keystone",
				Internal: c.KeystoneURL(), Public: "http://keystone.cloud.example.com/v3"})
			continue
		}
		p := c.Prepare("check", &c.Job(c.projectOf(a.Service)+"-keystone-register").Spec.Template.Spec)
		for i, arg := range p.Argv {
			if arg == "--endpoint" {
				e, err := jobs.ParseKeystoneEndpoint(p.Argv[i+1])
				if err != nil {
					c.T.Fatal(err)
				}
				out = append(out, e)
			}
		}
	}
	return out
}

func (c *cloud) projectOf(service string) string {
	for _, o := range c.Result.Objects {
		if o.GetLabels()["osk.dev/service"] == service {
			return o.GetLabels()["app.kubernetes.io/name"]
		}
	}
	c.T.Fatalf("service %s renders nothing", service)
	return ""
}

// catalogLines logs in afresh as the admin and returns the token's
// catalog as "type name interface url" lines.
func (c *cloud) catalogLines() []string {
	c.T.Helper()
	res := c.Admin().GetAuthResult().(tokens.CreateResult)
	cat, err := res.ExtractServiceCatalog()
	if err != nil {
		c.T.Fatal(err)
	}
	var lines []string
	for _, s := range cat.Entries {
		for _, e := range s.Endpoints {
			lines = append(lines, strings.Join([]string{s.Type, s.Name, e.Interface, e.URL}, " "))
		}
	}
	return lines
}

// checkCatalog names every API whose internal or public endpoint is not
// in the catalog exactly once.
func checkCatalog(lines []string, want []jobs.KeystoneEndpoint) error {
	var problems []string
	for _, e := range want {
		for iface, url := range map[string]string{"internal": e.Internal, "public": e.Public} {
			line := strings.Join([]string{e.Type, e.Name, iface, url}, " ")
			if n := count(lines, line); n != 1 {
				problems = append(problems, fmt.Sprintf("%s (%s): its %s endpoint %s is in the catalog %d times, want once", e.Name, e.Type, iface, url, n))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("the Keystone catalog is wrong:\n%s\ncatalog:\n%s", strings.Join(problems, "\n"), strings.Join(lines, "\n"))
	}
	return nil
}

func count(lines []string, want string) int {
	n := 0
	for _, l := range lines {
		if l == want {
			n++
		}
	}
	return n
}

func identity(t *testing.T, p *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	c, err := openstack.NewIdentityV3(p, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// removeEndpoint deletes one endpoint of a service, as a person might.
func removeEndpoint(t *testing.T, admin *gophercloud.ProviderClient, name string, iface gophercloud.Availability) {
	t.Helper()
	ic := identity(t, admin)
	page, err := services.List(ic, services.ListOpts{Name: name}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := services.ExtractServices(page)
	if err != nil || len(svcs) != 1 {
		t.Fatalf("service %s: %v (%d found)", name, err, len(svcs))
	}
	page, err = endpoints.List(ic, endpoints.ListOpts{ServiceID: svcs[0].ID, Availability: iface}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	eps, err := endpoints.ExtractEndpoints(page)
	if err != nil || len(eps) != 1 {
		t.Fatalf("%s endpoint of %s: %v (%d found)", iface, name, err, len(eps))
	}
	if err := endpoints.Delete(t.Context(), ic, eps[0].ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
}

// internal is where the test reaches each API: its internal endpoint,
// which osk registered with the service's loopback address.
var internal = gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal}

func createResourceProvider(t *testing.T, admin *gophercloud.ProviderClient) {
	pc, err := openstack.NewPlacementV1(admin, internal)
	if err != nil {
		t.Fatal(err)
	}
	pc.Microversion = "1.20" // the provider comes back in the answer

	rp, err := resourceproviders.Create(t.Context(), pc, resourceproviders.CreateOpts{Name: "compute-0.test"}).Extract()
	if err != nil {
		t.Fatalf("creating a resource provider: %v", err)
	}
	got, err := resourceproviders.Get(t.Context(), pc, rp.UUID).Extract()
	if err != nil || got.Name != "compute-0.test" {
		t.Fatalf("reading it back: %+v, %v", got, err)
	}
}

func uploadImage(t *testing.T, admin *gophercloud.ProviderClient) {
	ic, err := openstack.NewImageV2(admin, internal)
	if err != nil {
		t.Fatal(err)
	}
	img, err := images.Create(t.Context(), ic, images.CreateOpts{Name: "cirros", ContainerFormat: "bare", DiskFormat: "raw"}).Extract()
	if err != nil {
		t.Fatalf("creating an image: %v", err)
	}
	data := bytes.Repeat([]byte("osk"), 1<<20)
	if err := imagedata.Upload(t.Context(), ic, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("uploading it: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := images.Get(t.Context(), ic, img.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == images.ImageStatusActive {
			if got.SizeBytes != int64(len(data)) {
				t.Errorf("active with %d bytes, uploaded %d", got.SizeBytes, len(data))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the image is %s, not active, 30 s after upload", got.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func createFlavor(t *testing.T, admin *gophercloud.ProviderClient) {
	cc, err := openstack.NewComputeV2(admin, internal)
	if err != nil {
		t.Fatal(err)
	}
	disk := 1
	f, err := flavors.Create(t.Context(), cc, flavors.CreateOpts{Name: "m1.tiny", RAM: 512, VCPUs: 1, Disk: &disk}).Extract()
	if err != nil {
		t.Fatalf("creating a flavor: %v", err)
	}
	got, err := flavors.Get(t.Context(), cc, f.ID).Extract()
	if err != nil || got.RAM != 512 || got.VCPUs != 1 {
		t.Fatalf("reading it back: %+v, %v", got, err)
	}
}

func createNetwork(t *testing.T, admin *gophercloud.ProviderClient) {
	nc, err := openstack.NewNetworkV2(admin, internal)
	if err != nil {
		t.Fatal(err)
	}
	n, err := networks.Create(t.Context(), nc, networks.CreateOpts{Name: "private"}).Extract()
	if err != nil {
		t.Fatalf("creating a network: %v", err)
	}
	s, err := subnets.Create(t.Context(), nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.0.0.0/24", IPVersion: gophercloud.IPv4, Name: "private"}).Extract()
	if err != nil {
		t.Fatalf("creating a subnet: %v", err)
	}
	if s.GatewayIP != "10.0.0.1" {
		t.Errorf("subnet gateway %s, want 10.0.0.1", s.GatewayIP)
	}
}
