package hardening_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/placement/v1/resourceproviders"
	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/pki"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// tlsAPIs are the APIs TestInternalTLS starts: Keystone and Placement.
var tlsAPIs = []cloudtest.API{cloudtest.CoreAPIs[0], cloudtest.CoreAPIs[1]}

// TestInternalTLS starts Keystone and Placement from the objects osk
// renders with TLS inside the cloud on, their Service names resolved to
// the bed's addresses so that every certificate check is the real one.
// It checks that each serves HTTPS with the certificate osk issued for its
// Service, that gophercloud trusting only osk's CA (the rendered
// ConfigMap's certificate) gets a token and lists Placement's resource
// providers through the https endpoints of Keystone's catalog (Placement's
// keystonemiddleware validating the token against https Keystone with
// the CA its file names), and that a client without osk's CA is refused.
func TestInternalTLS(t *testing.T) {
	proctest.Need(t, "keystone", "keystone-manage")
	proctest.Need(t, "placement-api", "placement-manage")
	proctest.Need(t, "uwsgi-plugin-python3", "uwsgi")
	proctest.Need(t, "util-linux", "unshare")
	start := time.Now()
	c := cloudtest.New(t, filepath.Join("testdata", "tls.yaml"), oskBinary)
	c.ResolveNames()
	caPEM := []byte(configMap(t, c, catalog.InternalCAConfigMap).Data[catalog.InternalCAKey])
	if bytes.Contains(caPEM, []byte("PRIVATE KEY")) {
		t.Fatal("the CA's ConfigMap holds a private key")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("ConfigMap %s holds no certificate", catalog.InternalCAConfigMap)
	}
	client := &http.Client{Transport: c.Transport(roots), Timeout: 30 * time.Second}
	for _, a := range tlsAPIs {
		if !t.Run(a.Service, func(t *testing.T) { c.T = t; startHTTPS(c, a, client) }) {
			t.Fatalf("%s did not come up over HTTPS", a.Service)
		}
	}
	c.T = t
	t.Logf("keystone and placement up over HTTPS after %s", time.Since(start).Round(time.Second))
	for _, a := range tlsAPIs {
		t.Run(a.Deployment+" serves osk's certificate for its Service", func(t *testing.T) {
			checkServed(t, c, a, roots)
		})
	}
	t.Run("gophercloud with osk's CA: token issued, resource providers listed", func(t *testing.T) {
		p, err := openstack.NewClient(httpsURL(c, cloudtest.CoreAPIs[0]))
		if err != nil {
			t.Fatal(err)
		}
		p.HTTPClient = *client
		err = openstack.Authenticate(t.Context(), p, gophercloud.AuthOptions{
			IdentityEndpoint: httpsURL(c, cloudtest.CoreAPIs[0]), Username: "admin",
			Password: c.Creds.Value(catalog.AdminSecret, catalog.KeyPassword), DomainID: "default", TenantName: "admin",
		})
		if err != nil {
			t.Fatalf("logging in as admin over HTTPS: %v", err)
		}
		pc, err := openstack.NewPlacementV1(p, gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityInternal})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(pc.Endpoint, "https://placement-api.") {
			t.Fatalf("placement's internal endpoint in Keystone's catalog is %s; want https on its Service name", pc.Endpoint)
		}
		page, err := resourceproviders.List(pc, nil).AllPages(t.Context())
		if err != nil {
			t.Fatalf("listing resource providers with a token placement validated: %v", err)
		}
		rps, err := resourceproviders.ExtractResourceProviders(page)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, pc.Endpoint+"resource_providers", nil)
		req.Header.Set("X-Auth-Token", "not-a-token")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("placement answered %s to a bad token; want 401: its keystonemiddleware validates nothing", res.Status)
		}
		t.Logf("token of %d characters; placement at %s lists %d resource providers, refuses a bad token (%s)",
			len(p.Token()), pc.Endpoint, len(rps), res.Status)
	})
	t.Run("a client without osk's CA is refused", func(t *testing.T) {
		system, err := x509.SystemCertPool()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range tlsAPIs {
			_, err := (&http.Client{Transport: c.Transport(system), Timeout: 30 * time.Second}).Get(httpsURL(c, a))
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Errorf("%s with the system's CAs only: %v; want an unknown authority", a.Deployment, err)
				continue
			}
			t.Logf("%s with the system's CAs only: %v", a.Deployment, err)
		}
	})
	t.Run("no plain HTTP on the internal port", func(t *testing.T) {
		for _, a := range tlsAPIs {
			res, err := client.Get(strings.Replace(httpsURL(c, a), "https://", "http://", 1))
			if err == nil {
				res.Body.Close()
				if res.StatusCode < 400 {
					t.Errorf("%s answers plain HTTP: %s", a.Deployment, res.Status)
				}
			}
		}
	})
}

// configMap returns a rendered ConfigMap.
func configMap(t *testing.T, c *cloudtest.Cloud, name string) *corev1.ConfigMap {
	t.Helper()
	cm, ok := c.ByName["ConfigMap/"+name].(*corev1.ConfigMap)
	if !ok {
		t.Fatalf("osk renders no ConfigMap %s", name)
	}
	return cm
}

// serviceHost is the cluster DNS name of an API's Service.
func serviceHost(c *cloudtest.Cloud, a cloudtest.API) string {
	spec := c.D.Spec.DeepCopy()
	defaulting.Default(spec)
	return fmt.Sprintf("%s.%s.svc.%s", a.Deployment, c.D.Namespace, spec.InternalDomainName)
}

// httpsURL is an API's internal URL, on its Service's name.
func httpsURL(c *cloudtest.Cloud, a cloudtest.API) string {
	return fmt.Sprintf("https://%s:%d%s", serviceHost(c, a), a.Port, a.Path)
}

// startHTTPS brings one API up as the operator would, ready once it
// answers HTTPS with a certificate client trusts.
func startHTTPS(c *cloudtest.Cloud, a cloudtest.API, client *http.Client) {
	c.T.Helper()
	before, after := c.ServiceJobs(a.Service)
	for _, j := range before {
		c.RunJob(j)
	}
	url := httpsURL(c, a)
	c.StartDeployment(a.Deployment, a.Port, func() error {
		res, err := client.Get(url)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			return fmt.Errorf("GET %s: %s", url, res.Status)
		}
		return nil
	})
	for _, j := range after {
		c.RunJob(j)
	}
}

// checkServed checks that an API serves, for each DNS name of its
// Service, the certificate osk issued into internal-tls-credentials,
// verified against osk's CA for that name.
func checkServed(t *testing.T, c *cloudtest.Cloud, a cloudtest.API, roots *x509.CertPool) {
	host := serviceHost(c, a)
	issued, err := pki.ParseCert(c.SecretData(catalog.InternalTLSSecret)[catalog.CertificateKey(host)])
	if err != nil {
		t.Fatalf("osk's certificate for %s: %v", host, err)
	}
	for _, name := range catalog.ServiceNames(host) {
		conn, err := tls.Dial("tcp", fmt.Sprintf("%s:%d", c.IP(host), a.Port), &tls.Config{ServerName: name, RootCAs: roots, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Errorf("TLS to %s as %s: %v", a.Deployment, name, err)
			continue
		}
		leaf := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		if !bytes.Equal(leaf.Raw, issued.Raw) {
			t.Errorf("%s serves a certificate osk did not issue for %s", a.Deployment, host)
		}
	}
	t.Logf("%s: osk's certificate for %v, verified against osk's CA", a.Deployment, catalog.ServiceNames(host))
}
