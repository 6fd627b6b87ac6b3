package ceph_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/oslo"
	"github.com/oskproject/osk/internal/testing/cephtest"
	"github.com/oskproject/osk/internal/testing/cloudtest"
)

const (
	// objectStore is the CephObjectStore of testdata/ceph.yaml.
	objectStore = "openstack-store"
	// gatewayUserSecret is the Secret it names for its Keystone user.
	gatewayUserSecret = "openstack-store-keystone"
)

// rgwKeystoneConf is the gateway's Keystone options as osk renders them
// (object-storage's rgw-keystone.conf).
func rgwKeystoneConf(t *testing.T, c *cloudtest.Cloud) *oslo.File {
	t.Helper()
	f, err := oslo.Parse(c.SecretData("swift-etc")["rgw-keystone.conf"])
	if err != nil {
		t.Fatalf("osk's rgw-keystone.conf: %v", err)
	}
	if !slices.Contains(f.Sections(), rgwUser(objectStore)) {
		t.Fatalf("osk's rgw-keystone.conf has sections %v, not the gateway's %s", f.Sections(), rgwUser(objectStore))
	}
	return f
}

// gatewayUser is the Secret a CephDeployment's user gives Rook for the
// gateway's Keystone service user, in Rook's OS_* format: the user,
// project and domain osk's rgw-keystone.conf names, with the password
// osk generated for that user and registered in Keystone.
func gatewayUser(t *testing.T, c *cloudtest.Cloud) *corev1.Secret {
	t.Helper()
	f := rgwKeystoneConf(t, c)
	get := func(key string) []byte {
		v, ok := f.Get(rgwUser(objectStore), key)
		if !ok {
			t.Fatalf("osk's rgw-keystone.conf lacks %s", key)
		}
		return []byte(v)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: gatewayUserSecret, Namespace: "rook-ceph"},
		Data: map[string][]byte{
			"OS_AUTH_TYPE":            []byte("password"),
			"OS_IDENTITY_API_VERSION": get("rgw_keystone_api_version"),
			"OS_USERNAME":             get("rgw_keystone_admin_user"),
			"OS_PROJECT_NAME":         get("rgw_keystone_admin_project"),
			"OS_USER_DOMAIN_NAME":     get("rgw_keystone_admin_domain"),
			"OS_PROJECT_DOMAIN_NAME":  get("rgw_keystone_admin_domain"),
			"OS_PASSWORD":             []byte(c.Creds.Value(catalog.CredentialSecret("swift"), catalog.KeyKeystonePassword)),
		},
	}
}

// gatewayRunsOskOptions checks that the running gateway has every option
// of osk's rgw-keystone.conf, as its admin socket reports them.
func gatewayRunsOskOptions(t *testing.T, c *cloudtest.Cloud, cl *cephtest.Cluster) {
	who := rgwUser(objectStore)
	var running map[string]any
	if err := json.Unmarshal([]byte(cl.Ceph("daemon", who, "config", "show")), &running); err != nil {
		t.Fatalf("the gateway's configuration: %v", err)
	}
	f := rgwKeystoneConf(t, c)
	for _, k := range f.Keys(who) {
		want, _ := f.Get(who, k)
		if got := fmt.Sprint(running[k]); got != c.Local(want) {
			t.Errorf("the gateway runs with %s = %q; osk's rgw-keystone.conf says %q", k, got, want)
		}
	}
}

// member is a Keystone user with the member role on a project of its own.
type member struct {
	name, password, projectID string
}

// newMember creates a project and a user holding the member role on it,
// as a system-scoped admin (osk's Keystone enforces scopes).
func newMember(t *testing.T, c *cloudtest.Cloud, name string) member {
	t.Helper()
	sys, err := openstack.AuthenticatedClient(t.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: c.KeystoneURL(), Username: "admin", DomainID: "default",
		Password: c.Creds.Value(catalog.AdminSecret, catalog.KeyPassword), Scope: &gophercloud.AuthScope{System: true},
	})
	if err != nil {
		t.Fatalf("logging in as the system admin: %v", err)
	}
	id, err := openstack.NewIdentityV3(sys, internal)
	if err != nil {
		t.Fatal(err)
	}
	p, err := projects.Create(t.Context(), id, projects.CreateOpts{Name: name, DomainID: "default"}).Extract()
	if err != nil {
		t.Fatalf("creating project %s: %v", name, err)
	}
	m := member{name: name, password: rand.Text(), projectID: p.ID}
	u, err := users.Create(t.Context(), id, users.CreateOpts{Name: name, DomainID: "default", Password: m.password,
		DefaultProjectID: p.ID}).Extract()
	if err != nil {
		t.Fatalf("creating user %s: %v", name, err)
	}
	page, err := roles.List(id, roles.ListOpts{Name: "member"}).AllPages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := roles.ExtractRoles(page)
	if err != nil || len(rs) != 1 {
		t.Fatalf("the member role: %v, %v", rs, err)
	}
	if err := roles.Assign(t.Context(), id, rs[0].ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
		t.Fatalf("giving %s the member role: %v", name, err)
	}
	return m
}

// swift logs in as the member on its project and returns its object
// storage client, at the object-store endpoint osk registered.
func (m member) swift(t *testing.T, c *cloudtest.Cloud) *gophercloud.ServiceClient {
	t.Helper()
	p, err := openstack.AuthenticatedClient(t.Context(), gophercloud.AuthOptions{
		IdentityEndpoint: c.KeystoneURL(), Username: m.name, Password: m.password, DomainID: "default",
		Scope: &gophercloud.AuthScope{ProjectID: m.projectID},
	})
	if err != nil {
		t.Fatalf("logging in as %s: %v", m.name, err)
	}
	sc, err := openstack.NewObjectStorageV1(p, internal)
	if err != nil {
		t.Fatalf("%s's object-store endpoint: %v", m.name, err)
	}
	return sc
}

// swiftThroughKeystone checks the gateway with Keystone tokens: a member
// creates a container and an object and reads it back; another project's
// member gets 403 on it, and so does the cloud admin (admin is an
// accepted role, not a gateway admin role); without a token, 401.
func swiftThroughKeystone(t *testing.T, c *cloudtest.Cloud) {
	alice, bob := newMember(t, c, "alpha"), newMember(t, c, "beta")
	sc := alice.swift(t, c)
	if want := "AUTH_" + alice.projectID; !strings.HasSuffix(strings.TrimSuffix(sc.Endpoint, "/"), want) {
		t.Errorf("the object-store endpoint %s does not end in %s", sc.Endpoint, want)
	}
	if _, err := containers.Create(t.Context(), sc, "osk", nil).Extract(); err != nil {
		t.Fatalf("creating a container: %v", err)
	}
	body := "stored in Ceph through Swift\n"
	if _, err := objects.Create(t.Context(), sc, "osk", "hello.txt", objects.CreateOpts{Content: strings.NewReader(body)}).Extract(); err != nil {
		t.Fatalf("creating an object: %v", err)
	}
	if got, err := download(t, sc); err != nil || string(got) != body {
		t.Fatalf("reading the object back: %q, %v", got, err)
	}
	intruder := bob.swift(t, c)
	intruder.Endpoint = sc.Endpoint
	if _, err := download(t, intruder); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("another project's member reading the object: %v, want 403", err)
	}
	admin, err := openstack.NewObjectStorageV1(c.Admin(), internal)
	if err != nil {
		t.Fatal(err)
	}
	admin.Endpoint = sc.Endpoint
	if _, err := download(t, admin); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("the cloud admin reading another project's object: %v, want 403", err)
	}
	res, err := http.Get(sc.ServiceURL("osk", "hello.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("reading the object without a token: %s %s, want 401", res.Status, b)
	}
}

// download reads the test's object.
func download(t *testing.T, sc *gophercloud.ServiceClient) ([]byte, error) {
	res := objects.Download(t.Context(), sc, "osk", "hello.txt", nil)
	return res.ExtractContent()
}
