package credentials_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/credentials"
	"github.com/oskproject/osk/internal/pki"
)

const keystoneHost = "keystone-api.openstack.svc.cluster.local"

// verify checks that a certificate-and-key PEM text is a server
// certificate of the CA for every DNS name of keystone's Service, and
// returns the certificate.
func verify(t *testing.T, bundle []byte, caPEM []byte) *x509.Certificate {
	t.Helper()
	certPEM, rest := pem.Decode(bundle)
	keyPEM, _ := pem.Decode(rest)
	if certPEM == nil || keyPEM == nil {
		t.Fatalf("not a certificate then a key:\n%s", bundle)
	}
	cert, key, err := pki.ParsePair(pem.EncodeToMemory(certPEM), pem.EncodeToMemory(keyPEM))
	if err != nil {
		t.Fatalf("the certificate and key do not read: %v", err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		t.Fatal("the key is not the certificate's")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA's certificate does not read")
	}
	for _, name := range []string{"keystone-api", "keystone-api.openstack", "keystone-api.openstack.svc", keystoneHost} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("not valid for %s: %v", name, err)
		}
	}
	return cert
}

// TestInternalCertificateIssued checks that a store asked for an API's
// certificate makes the internal CA and a certificate it signs for the
// Service's DNS names, and that only the CA and the certificate are new.
func TestInternalCertificateIssued(t *testing.T) {
	s := credentials.NewStore(nil)
	bundle := []byte(s.Value(catalog.InternalTLSSecret, catalog.CertificateKey(keystoneHost)))
	ca, err := pki.ParseBundle([]byte(s.Value(catalog.InternalTLSSecret, catalog.KeyInternalCA)))
	if err != nil {
		t.Fatalf("the internal CA: %v", err)
	}
	cert := verify(t, bundle, ca.Cert)
	if life := cert.NotAfter.Sub(cert.NotBefore); life < credentials.CertificateLifetime {
		t.Errorf("certificate valid for %s; want %s", life, credentials.CertificateLifetime)
	}
	ch := s.Changes()
	if len(ch) != 1 || len(ch[0].Data) != 2 || len(ch[0].Renewed) != 0 {
		t.Fatalf("changes %+v; want the CA and the certificate, new", ch)
	}
}

// TestInternalCertificateRenewed checks that a stored certificate is kept
// while it is far from its end and signed by the CA, and issued anew,
// and reported as renewed, when it nears its end or the CA changed.
func TestInternalCertificateRenewed(t *testing.T) {
	ca, err := pki.NewCA("osk-internal-ca", time.Now(), time.Hour*24*3650)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("another-ca", time.Now(), time.Hour*24*3650)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(by pki.CA, life time.Duration) []byte {
		c, k, err := by.Issue(pki.Request{CommonName: keystoneHost, Hosts: catalog.ServiceNames(keystoneHost),
			Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: time.Now(), NotAfter: time.Now().Add(life)})
		if err != nil {
			t.Fatal(err)
		}
		return append(c, k...)
	}
	key := catalog.CertificateKey(keystoneHost)
	for _, tc := range []struct {
		name    string
		stored  []byte
		renewed bool
	}{
		{"fresh", issue(ca, credentials.CertificateLifetime), false},
		{"near its end", issue(ca, credentials.CertificateRenewBefore-time.Hour), true},
		{"of another CA", issue(other, credentials.CertificateLifetime), true},
		{"not a certificate", []byte("garbage"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := credentials.NewStore([]corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: catalog.InternalTLSSecret},
				Data: map[string][]byte{catalog.KeyInternalCA: ca.Bundle(), key: tc.stored}}})
			got := []byte(s.Value(catalog.InternalTLSSecret, key))
			ch := s.Changes()
			if !tc.renewed {
				if string(got) != string(tc.stored) || len(ch) != 0 {
					t.Fatalf("a fresh certificate was replaced (changes %+v)", ch)
				}
				return
			}
			verify(t, got, ca.Cert)
			if len(ch) != 1 || !slices.Equal(ch[0].Renewed, []string{key}) || string(ch[0].Data[key]) != string(got) {
				t.Fatalf("changes %+v; want %s renewed", ch, key)
			}
		})
	}
}

// TestServiceNames checks the DNS names of a Service's certificate.
func TestServiceNames(t *testing.T) {
	got := catalog.ServiceNames("placement-api.ns1.svc.example.org")
	want := []string{"placement-api", "placement-api.ns1", "placement-api.ns1.svc", "placement-api.ns1.svc.example.org"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, ok := catalog.CertificateHost(catalog.KeyInternalCA); ok {
		t.Error("the CA's key reads as a certificate's")
	}
}
