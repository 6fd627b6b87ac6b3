package openstack_test

import (
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/jobs"
)

// checkAdminScopes logs in with the internal entries of the clouds.yaml
// osk renders and checks what Keystone's documented defaults say of them,
// with scopes enforced as osk's keystone.conf has it: the system-scoped
// admin reads every project, the project-scoped admin cannot read another
// project but reads its own.
func checkAdminScopes(t *testing.T, c *cloud) {
	c.T = t
	yaml := c.SecretData(catalog.CloudsSecret)[catalog.CloudsFile]
	if len(yaml) == 0 {
		t.Fatalf("osk renders no %s in Secret %s", catalog.CloudsFile, catalog.CloudsSecret)
	}
	// Only the address differs from a pod: the cluster DNS name is a
	// loopback address here.
	rewritten := c.Local(string(yaml))
	system := identityClient(t, rewritten, catalog.CloudAdminSystemInternal)
	project := identityClient(t, rewritten, catalog.CloudAdminInternal)

	all := listProjects(t, system)
	service, ok := all[jobs.ServiceProject]
	if !ok || all[catalog.AdminProject] == "" {
		t.Fatalf("the system-scoped admin lists %v, want the admin and service projects", all)
	}
	if _, err := projects.Get(t.Context(), system, service).Extract(); err != nil {
		t.Errorf("the system-scoped admin cannot read project %s: %v", jobs.ServiceProject, err)
	}
	_, err := projects.Get(t.Context(), project, service).Extract()
	if !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("the project-scoped admin reading project %s: %v, want 403 Forbidden", jobs.ServiceProject, err)
	}
	if _, err := projects.Get(t.Context(), project, all[catalog.AdminProject]).Extract(); err != nil {
		t.Errorf("the project-scoped admin cannot read its own project: %v", err)
	}
}

// identityClient authenticates with one entry of a clouds.yaml, as the
// OpenStack client would, and returns an identity client for it.
func identityClient(t *testing.T, yaml, cloud string) *gophercloud.ServiceClient {
	t.Helper()
	ao, eo, _, err := clouds.Parse(clouds.WithCloudsYAML(strings.NewReader(yaml)), clouds.WithCloudName(cloud))
	if err != nil {
		t.Fatalf("clouds.yaml entry %s: %v", cloud, err)
	}
	p, err := openstack.AuthenticatedClient(t.Context(), ao)
	if err != nil {
		t.Fatalf("logging in as %s: %v", cloud, err)
	}
	id, err := openstack.NewIdentityV3(p, eo)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// listProjects returns every project the client may list, name to ID.
func listProjects(t *testing.T, c *gophercloud.ServiceClient) map[string]string {
	t.Helper()
	pages, err := projects.List(c, nil).AllPages(t.Context())
	if err != nil {
		t.Fatalf("listing projects: %v", err)
	}
	ps, err := projects.ExtractProjects(pages)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range ps {
		out[p.Name] = p.ID
	}
	return out
}
