package jobs_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/testing/keystonetest"
	"github.com/oskproject/osk/internal/testing/mariadbtest"
)

// TestKeystoneRegisterOnKeystone registers two services, one with its own
// domain and extra roles, against a real Keystone, runs everything twice,
// and checks through tokens what a service sees: its user logs in to the
// service project with its roles, and the catalog holds exactly one
// internal and one public endpoint per API. Moved URLs and new passwords
// are taken over on the next run.
func TestKeystoneRegisterOnKeystone(t *testing.T) {
	t.Parallel()
	ks := keystonetest.Start(t, mariadbtest.Start(t))
	nova := register(ks, "nova", "nova-password",
		"compute|nova|http://nova-api.os:8774/v2.1|https://nova.cloud.test/v2.1",
		"placement|placement|http://placement-api.os:8778|https://placement.cloud.test")
	heat := register(ks, "heat", "heat-password", "orchestration|heat|http://heat-api.os:8004/v1/%(tenant_id)s|https://heat.cloud.test/v1/%(tenant_id)s")
	heat.Roles = []string{"heat_stack_owner", "heat_stack_user"}
	heat.Domain = &jobs.KeystoneDomain{Name: "heat", AdminUser: "heat_domain_admin", AdminPassword: "domain-password"}
	for run := 1; run <= 2; run++ {
		for _, j := range []jobs.KeystoneRegister{nova, heat} {
			if err := j.Run(t.Context()); err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
		}
	}
	catalog, roles, projectID := login(t, ks, "nova", "nova-password", gophercloud.AuthScope{ProjectName: jobs.ServiceProject, DomainID: "default"})
	// Keystone adds the roles admin implies (member, reader).
	if !strings.Contains(roles, "admin") || !strings.Contains(roles, "service") {
		t.Errorf("nova's roles in the service project: %s, want admin and service", roles)
	}
	for _, want := range []string{
		"compute nova internal http://nova-api.os:8774/v2.1", "compute nova public https://nova.cloud.test/v2.1",
		"placement placement internal http://placement-api.os:8778", "placement placement public https://placement.cloud.test",
		// Keystone fills in the project in the token's catalog.
		"orchestration heat internal http://heat-api.os:8004/v1/" + projectID,
	} {
		if count(catalog, want) != 1 {
			t.Errorf("the catalog holds %q %d times, want once; catalog:\n%s", want, count(catalog, want), strings.Join(catalog, "\n"))
		}
	}
	if _, roles, _ := login(t, ks, "heat/heat_domain_admin", "domain-password", gophercloud.AuthScope{DomainName: "heat"}); !strings.Contains(roles, "admin") {
		t.Errorf("heat_domain_admin's roles on domain heat: %s, want admin", roles)
	}

	// The spec moves nova's public URL and the Secret changes its password.
	nova = register(ks, "nova", "new-nova-password",
		"compute|nova|http://nova-api.os:8774/v2.1|https://compute.cloud.test/v2.1",
		"placement|placement|http://placement-api.os:8778|https://placement.cloud.test")
	if err := nova.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	catalog, _, _ = login(t, ks, "nova", "new-nova-password", gophercloud.AuthScope{ProjectName: jobs.ServiceProject, DomainID: "default"})
	if count(catalog, "compute nova public https://compute.cloud.test/v2.1") != 1 || count(catalog, "compute nova public https://nova.cloud.test/v2.1") != 0 {
		t.Errorf("the moved public endpoint was not corrected:\n%s", strings.Join(catalog, "\n"))
	}
	if _, err := authenticate(t.Context(), ks, "nova", "nova-password", gophercloud.AuthScope{ProjectName: jobs.ServiceProject, DomainID: "default"}); err == nil {
		t.Error("nova's old password still works")
	}
}

// TestParseKeystoneEndpoint checks the command line's endpoint form.
func TestParseKeystoneEndpoint(t *testing.T) {
	e, err := jobs.ParseKeystoneEndpoint("compute|nova|http://a/v2.1|https://b/v2.1")
	if err != nil || e != (jobs.KeystoneEndpoint{Type: "compute", Name: "nova", Internal: "http://a/v2.1", Public: "https://b/v2.1"}) {
		t.Errorf("got %+v, %v", e, err)
	}
	for _, bad := range []string{"compute|nova|http://a", "compute||http://a|http://b", "a|b|c|d|e"} {
		if _, err := jobs.ParseKeystoneEndpoint(bad); err == nil || !strings.Contains(err.Error(), "type|name|internal-url|public-url") {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func register(ks *keystonetest.Server, user, password string, endpoints ...string) jobs.KeystoneRegister {
	j := jobs.KeystoneRegister{AuthURL: ks.AuthURL, Region: ks.Region, AdminUser: ks.AdminUser, AdminPassword: ks.AdminPassword,
		AdminProject: ks.AdminProject, ServiceUser: user, ServicePassword: password, Wait: 30 * time.Second}
	for _, spec := range endpoints {
		e, err := jobs.ParseKeystoneEndpoint(spec)
		if err != nil {
			panic(err)
		}
		j.Endpoints = append(j.Endpoints, e)
	}
	return j
}

// authenticate logs user in; a user in another domain is named as
// "domain/user".
func authenticate(ctx context.Context, ks *keystonetest.Server, user, password string, scope gophercloud.AuthScope) (*gophercloud.ProviderClient, error) {
	opts := gophercloud.AuthOptions{IdentityEndpoint: ks.AuthURL, Username: user, Password: password, DomainID: "default", Scope: &scope}
	if domain, name, ok := strings.Cut(user, "/"); ok {
		opts.DomainID, opts.DomainName, opts.Username = "", domain, name
	}
	return openstack.AuthenticatedClient(ctx, opts)
}

// login returns the token's catalog as "type name interface url" lines,
// its role names, sorted and joined with commas, and its project's ID.
func login(t *testing.T, ks *keystonetest.Server, user, password string, scope gophercloud.AuthScope) ([]string, string, string) {
	t.Helper()
	p, err := authenticate(t.Context(), ks, user, password, scope)
	if err != nil {
		t.Fatalf("%s cannot log in: %v", user, err)
	}
	res := p.GetAuthResult().(tokens.CreateResult)
	catalog, err := res.ExtractServiceCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range catalog.Entries {
		for _, e := range s.Endpoints {
			lines = append(lines, strings.Join([]string{s.Type, s.Name, e.Interface, e.URL}, " "))
		}
	}
	roles, err := res.ExtractRoles()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	project, err := res.ExtractProject()
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	if project != nil {
		id = project.ID
	}
	return lines, strings.Join(names, ","), id
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
