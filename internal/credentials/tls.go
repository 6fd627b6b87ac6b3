package credentials

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/pki"
)

// Lifetimes of the internal TLS certificates (features.ssl.internal).
const (
	// CertificateLifetime is how long an API's certificate is valid.
	CertificateLifetime = 365 * 24 * time.Hour
	// CertificateRenewBefore is how long before its end a certificate
	// is issued anew, at the operator's next reconcile.
	CertificateRenewBefore = 120 * 24 * time.Hour
)

// certificate reports whether a key of a Secret is an internal API's
// certificate, and for which cluster DNS name.
func certificate(secret, key string) (string, bool) {
	if secret != catalog.InternalTLSSecret {
		return "", false
	}
	return catalog.CertificateHost(key)
}

// issue makes the certificate of the Service host, signed by the
// deployment's internal CA (made first if the store lacks it), valid for
// the Service's DNS names: certificate then key, one PEM text.
func (s *Store) issue(host string, now time.Time) ([]byte, error) {
	ca, err := pki.ParseBundle([]byte(s.Value(catalog.InternalTLSSecret, catalog.KeyInternalCA)))
	if err != nil {
		return nil, fmt.Errorf("reading the internal CA: %w", err)
	}
	cert, key, err := ca.Issue(pki.Request{CommonName: host, Hosts: catalog.ServiceNames(host),
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: now, NotAfter: now.Add(CertificateLifetime)})
	if err != nil {
		return nil, fmt.Errorf("issuing the certificate of %s: %w", host, err)
	}
	return append(cert, key...), nil
}

// stale reports whether a stored certificate must be issued anew: it
// ends within CertificateRenewBefore, it is not one, or the internal CA
// (made anew when its key is deleted) did not sign it.
func (s *Store) stale(certPEM []byte, now time.Time) bool {
	c, err := pki.ParseCert(certPEM)
	if err != nil || now.Add(CertificateRenewBefore).After(c.NotAfter) {
		return true
	}
	ca, err := pki.ParseBundle([]byte(s.Value(catalog.InternalTLSSecret, catalog.KeyInternalCA)))
	if err != nil {
		return true
	}
	caCert, err := pki.ParseCert(ca.Cert)
	return err != nil || !bytes.Equal(c.RawIssuer, caCert.RawSubject) || c.CheckSignatureFrom(caCert) != nil
}
