package sandbox

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
)

func TestCertificatesChainToTheAuthority(t *testing.T) {
	dir := t.TempDir()
	ca, err := newAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.issueServing("serving")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ca.issueClient("admin", "osk-sandbox-admin", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)

	cert := parseCert(t, serving.Cert)
	for _, name := range []string{"127.0.0.1", "localhost", "kubernetes.default.svc", serviceIP} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("serving certificate for %s: %v", name, err)
		}
	}
	client := parseCert(t, admin.Cert)
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if client.Subject.CommonName != "osk-sandbox-admin" || !slices.Equal(client.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("client certificate subject: got %v", client.Subject)
	}
}

func parseCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
