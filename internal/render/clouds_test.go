package render_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/render"
)

// cloudsYAML is the rendered clouds.yaml of an example.
func cloudsYAML(t *testing.T, example string, creds render.Credentials) []byte {
	t.Helper()
	s := find(renderExample(t, example, creds).Objects, "Secret/"+catalog.CloudsSecret).(*corev1.Secret)
	if len(s.Data) != 1 || s.Data[catalog.CloudsFile] == nil {
		t.Fatalf("Secret %s holds %d keys; want only %s", s.Name, len(s.Data), catalog.CloudsFile)
	}
	return s.Data[catalog.CloudsFile]
}

// TestCloudsYAML reads every entry of the rendered clouds.yaml as
// gophercloud does and checks where and how it authenticates.
func TestCloudsYAML(t *testing.T) {
	// Parse lets the environment override the file.
	for _, env := range []string{"OS_CLOUD", "OS_REGION_NAME", "OS_INTERFACE", "OS_CLIENT_CONFIG_FILE"} {
		t.Setenv(env, "")
	}
	rec := recorder{}
	file := cloudsYAML(t, "full", rec)
	password := rec.Value(catalog.AdminSecret, catalog.KeyPassword)
	public := "https://keystone.cloud.example.com/v3" // examples/full.yaml serves TLS
	// ... and the internal ones, with osk's CA, which the internal
	// entries name: here a copy of it, which gophercloud reads.
	internal := "https://keystone-api.openstack.svc.cluster.local:5000/v3"
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, testCA.Cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(file, []byte("cacert: "+catalog.InternalCAFile+"\n")); n != 2 {
		t.Errorf("%d entries name the internal CA; want the 2 internal ones:\n%s", n, file)
	}
	file = bytes.ReplaceAll(file, []byte(catalog.InternalCAFile), []byte(caFile))
	project := &gophercloud.AuthScope{ProjectName: catalog.AdminProject, DomainName: catalog.AdminDomain}
	system := &gophercloud.AuthScope{System: true}
	for _, tc := range []struct {
		cloud, url string
		scope      *gophercloud.AuthScope
		iface      gophercloud.Availability
	}{
		{catalog.CloudAdmin, public, project, gophercloud.AvailabilityPublic},
		{catalog.CloudAdminSystem, public, system, gophercloud.AvailabilityPublic},
		{catalog.CloudAdminInternal, internal, project, gophercloud.AvailabilityInternal},
		{catalog.CloudAdminSystemInternal, internal, system, gophercloud.AvailabilityInternal},
	} {
		ao, eo, _, err := clouds.Parse(clouds.WithCloudsYAML(bytes.NewReader(file)), clouds.WithCloudName(tc.cloud))
		if err != nil {
			t.Errorf("%s: %v", tc.cloud, err)
			continue
		}
		if ao.IdentityEndpoint != tc.url || ao.Username != catalog.AdminUser || ao.DomainName != catalog.AdminDomain || ao.Password != password {
			t.Errorf("%s: authenticates as %s of domain %s at %s (password given: %v); want %s of %s at %s",
				tc.cloud, ao.Username, ao.DomainName, ao.IdentityEndpoint, ao.Password == password, catalog.AdminUser, catalog.AdminDomain, tc.url)
		}
		if ao.Scope == nil || *ao.Scope != *tc.scope {
			t.Errorf("%s: scope %+v; want %+v", tc.cloud, ao.Scope, tc.scope)
		}
		if eo.Availability != tc.iface || eo.Region != "RegionOne" {
			t.Errorf("%s: %s endpoints of region %q; want %s of RegionOne", tc.cloud, eo.Availability, eo.Region, tc.iface)
		}
	}
}

// TestCloudsYAMLOffline checks that an offline render puts the
// placeholder of the admin's password into clouds.yaml, and no password.
func TestCloudsYAMLOffline(t *testing.T) {
	for _, name := range examples {
		file := string(cloudsYAML(t, name, nil))
		placeholder := render.Placeholders{}.Value(catalog.AdminSecret, catalog.KeyPassword)
		if n := strings.Count(file, "password: "+placeholder+"\n"); n != 4 {
			t.Errorf("%s: %d of 4 entries have the placeholder as password:\n%s", name, n, file)
		}
		if n := strings.Count(file, "password:"); n != 4 {
			t.Errorf("%s: %d passwords in clouds.yaml; want the 4 placeholders", name, n)
		}
	}
}
