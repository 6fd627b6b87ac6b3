package cloudtest

import (
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/oskproject/osk/internal/catalog"
)

// API is one OpenStack API osk renders and a bed starts.
type API struct {
	Service    string // catalog service
	Deployment string // the Deployment serving it
	Port       int
	Path       string // answers GET without a token
}

// CoreAPIs are keystone, placement, glance, neutron-server and nova-api,
// in the order they come up.
var CoreAPIs = []API{
	{"identity", "keystone-api", 5000, "/v3"},
	{"placement", "placement-api", 8778, "/"},
	{"image", "glance-api", 9292, "/versions"},
	{"networking", "neutron-server", 9696, "/"},
	{"compute", "nova-api", 8774, "/"},
}

// URL is where the API answers on its loopback address.
func (c *Cloud) URL(a API) string {
	return fmt.Sprintf("http://%s:%d%s", c.IP(a.Deployment), a.Port, a.Path)
}

// StartAPI brings one API up as the operator would: the service's Jobs
// before its workloads, its Deployment until it answers, the Jobs after.
// It returns the Jobs it ran, in order.
func (c *Cloud) StartAPI(a API) (before, after []string) {
	c.T.Helper()
	before, after = c.ServiceJobs(a.Service)
	for _, j := range before {
		c.RunJob(j)
	}
	c.StartDeployment(a.Deployment, a.Port, Answers(c.URL(a)))
	for _, j := range after {
		c.RunJob(j)
	}
	return before, after
}

// Answers is ready when url answers an HTTP GET with anything but a
// server error.
func Answers(url string) func() error {
	return func() error {
		res, err := http.Get(url)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			return fmt.Errorf("GET %s: %s", url, res.Status)
		}
		return nil
	}
}

// KeystoneURL is Keystone's v3 API on its loopback address.
func (c *Cloud) KeystoneURL() string {
	return fmt.Sprintf("http://%s:5000/v3", c.IP("keystone-api"))
}

// Admin logs in as Keystone's admin, with the password osk generated.
func (c *Cloud) Admin() *gophercloud.ProviderClient {
	c.T.Helper()
	p, err := openstack.AuthenticatedClient(c.T.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: c.KeystoneURL(),
		Username:         "admin", Password: c.Creds.Value(catalog.AdminSecret, catalog.KeyPassword),
		DomainID: "default", TenantName: "admin",
	})
	if err != nil {
		c.T.Fatalf("logging in as admin: %v", err)
	}
	return p
}
