package nodeconfig

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/pki"
)

// TestCertificatesIssue checks the node's certificates: the server's for
// its address and host name, the client's with its name, both chaining
// to the CA for their use only and ending with it.
func TestCertificatesIssue(t *testing.T) {
	now := time.Now()
	ca, err := pki.NewCA("test-ca", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := Certificates{Dir: "/etc/pki", ServerIP: "192.0.2.7", Hostname: "node-1", ClientName: "osk-libvirt-client"}
	files, err := c.Issue(ca.Bundle(), now)
	if err != nil {
		t.Fatal(err)
	}
	if string(files[FileCACert]) != string(ca.Cert) {
		t.Errorf("%s is not the CA's certificate", FileCACert)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.Cert)
	for _, tc := range []struct {
		cert, key string
		usage     x509.ExtKeyUsage
		host      string
		cn        string
	}{
		{FileServerCert, FileServerKey, x509.ExtKeyUsageServerAuth, "192.0.2.7", "node-1"},
		{FileServerCert, FileServerKey, x509.ExtKeyUsageServerAuth, "node-1", "node-1"},
		{FileClientCert, FileClientKey, x509.ExtKeyUsageClientAuth, "", "osk-libvirt-client"},
	} {
		cert, _, err := pki.ParsePair(files[tc.cert], files[tc.key])
		if err != nil {
			t.Fatalf("%s: %v", tc.cert, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: tc.host, KeyUsages: []x509.ExtKeyUsage{tc.usage}}); err != nil {
			t.Errorf("%s for %q: %v", tc.cert, tc.host, err)
		}
		other := x509.ExtKeyUsageClientAuth + x509.ExtKeyUsageServerAuth - tc.usage
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{other}}); err == nil {
			t.Errorf("%s also serves the other use", tc.cert)
		}
		if cert.Subject.CommonName != tc.cn {
			t.Errorf("%s: CN %q, want %q", tc.cert, cert.Subject.CommonName, tc.cn)
		}
		caCert, _ := pki.ParseCert(ca.Cert)
		if !cert.NotAfter.Equal(caCert.NotAfter) {
			t.Errorf("%s ends %s, the CA %s", tc.cert, cert.NotAfter, caCert.NotAfter)
		}
	}
}

// TestCertificatesRefuseBadCA checks that a missing, broken or expired CA
// is an error that names where the CA comes from.
func TestCertificatesRefuseBadCA(t *testing.T) {
	now := time.Now()
	old, err := pki.NewCA("old", now.Add(-48*time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := Certificates{ServerIP: "192.0.2.7", ClientName: "x"}
	for name, bundle := range map[string][]byte{
		"empty": nil, "certificate only": old.Cert, "expired": old.Bundle(),
	} {
		if _, err := c.Issue(bundle, now); err == nil || !strings.Contains(err.Error(), CAEnv) {
			t.Errorf("%s: error %v, want one naming $%s", name, err, CAEnv)
		}
	}
}
