package admission

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/oskproject/osk/internal/pki"
)

// Keys of the certificate Secret. The serving pair has the keys of a
// kubernetes.io/tls Secret; the CA's private key lives only there.
const (
	keyCert       = corev1.TLSCertKey
	keyKey        = corev1.TLSPrivateKeyKey
	keyCA         = "ca.crt"
	keyCAKey      = "ca.key"
	keyPreviousCA = "ca-previous.crt"
)

// Lifetimes bound the certificates osk makes. Each is renewed when less
// than a third of its lifetime is left.
type Lifetimes struct {
	// CA is the lifetime of the self-signed CA.
	CA time.Duration
	// Serving is the lifetime of the webhook's serving certificate.
	Serving time.Duration
}

// DefaultLifetimes are 5 years for the CA and 1 year for the serving
// certificate.
var DefaultLifetimes = Lifetimes{CA: 5 * 365 * 24 * time.Hour, Serving: 365 * 24 * time.Hour}

// renewCerts returns the Secret data that holds a current CA and a
// current serving certificate for hosts, and whether it differs from
// data. A CA is replaced when due; the replaced one stays in the CA
// bundle while it is valid, so that serving certificates it signed are
// still trusted until every replica has loaded the new one.
func renewCerts(data map[string][]byte, hosts []string, now time.Time, l Lifetimes) (map[string][]byte, bool, error) {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = v
	}
	changed := false
	if due(out[keyCA], now) || !pairMatches(out[keyCA], out[keyCAKey]) {
		if len(out[keyCA]) > 0 && !expired(out[keyCA], now) {
			out[keyPreviousCA] = out[keyCA]
		}
		cert, key, err := newCertificate(nil, nil, nil, now, l.CA)
		if err != nil {
			return nil, false, fmt.Errorf("making the webhook CA: %w", err)
		}
		out[keyCA], out[keyCAKey], changed = cert, key, true
	}
	if changed || due(out[keyCert], now) || !pairMatches(out[keyCert], out[keyKey]) || !issuedFor(out[keyCert], out[keyCA], hosts) {
		cert, key, err := newCertificate(out[keyCA], out[keyCAKey], hosts, now, l.Serving)
		if err != nil {
			return nil, false, fmt.Errorf("making the webhook serving certificate: %w", err)
		}
		out[keyCert], out[keyKey], changed = cert, key, true
	}
	if expired(out[keyPreviousCA], now) {
		delete(out, keyPreviousCA)
		changed = true
	}
	return out, changed, nil
}

// caBundle is what the API server must trust: the current CA and the
// previous one while it is valid.
func caBundle(data map[string][]byte) []byte {
	return bytes.Join([][]byte{data[keyCA], data[keyPreviousCA]}, nil)
}

// newCertificate makes an ECDSA P-256 key and a certificate valid from
// now for lifetime: a self-signed CA when caPEM is nil, else a serving
// certificate for hosts (DNS names or IP addresses) signed by the CA.
func newCertificate(caPEM, caKeyPEM []byte, hosts []string, now time.Time, lifetime time.Duration) (certPEM, keyPEM []byte, err error) {
	if caPEM == nil {
		ca, err := pki.NewCA("osk-webhook-ca", now, lifetime)
		return ca.Cert, ca.Key, err
	}
	return pki.CA{Cert: caPEM, Key: caKeyPEM}.Issue(pki.Request{CommonName: "osk-webhook", Hosts: hosts,
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: now, NotAfter: now.Add(lifetime)})
}

// due reports whether a certificate is missing, unreadable, not yet
// valid, or has less than a third of its lifetime left at now.
func due(certPEM []byte, now time.Time) bool {
	c, err := pki.ParseCert(certPEM)
	if err != nil {
		return true
	}
	third := c.NotAfter.Sub(c.NotBefore) / 3
	return now.Before(c.NotBefore) || now.After(c.NotAfter.Add(-third))
}

// expired reports whether a present certificate is unreadable or past its
// end; a missing one is not expired.
func expired(certPEM []byte, now time.Time) bool {
	if len(certPEM) == 0 {
		return false
	}
	c, err := pki.ParseCert(certPEM)
	return err != nil || now.After(c.NotAfter)
}

// pairMatches reports whether the certificate and key belong together.
func pairMatches(certPEM, keyPEM []byte) bool {
	c, key, err := pki.ParsePair(certPEM, keyPEM)
	if err != nil {
		return false
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	return ok && pub.Equal(&key.PublicKey)
}

// issuedFor reports whether the serving certificate is signed by the CA
// and names exactly the hosts.
func issuedFor(certPEM, caPEM []byte, hosts []string) bool {
	c, err := pki.ParseCert(certPEM)
	if err != nil {
		return false
	}
	ca, err := pki.ParseCert(caPEM)
	if err != nil || c.CheckSignatureFrom(ca) != nil {
		return false
	}
	names, ips := pki.SplitHosts(hosts)
	var got []string
	for _, ip := range c.IPAddresses {
		got = append(got, ip.String())
	}
	var want []string
	for _, ip := range ips {
		want = append(want, ip.String())
	}
	return slices.Equal(c.DNSNames, names) && slices.Equal(got, want)
}
