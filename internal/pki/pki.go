// Package pki makes the small certificate authorities osk keeps in Secrets
// and the certificates they sign: ECDSA P-256 keys, PEM encoded, drawn
// with crypto/rand.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Request describes a certificate to make.
type Request struct {
	// CommonName is the subject's CN.
	CommonName string
	// Hosts are the DNS names and IP addresses a serving certificate is
	// valid for.
	Hosts []string
	// Usages are the extended key usages (server, client); none makes a
	// CA.
	Usages []x509.ExtKeyUsage
	// NotBefore and NotAfter bound the validity; NotBefore is moved a
	// minute back for clocks that lag.
	NotBefore, NotAfter time.Time
}

// CA is a certificate authority: its certificate and private key, PEM.
type CA struct {
	Cert, Key []byte
}

// NewCA makes a self-signed CA valid from now for lifetime.
func NewCA(commonName string, now time.Time, lifetime time.Duration) (CA, error) {
	cert, key, err := make1(nil, nil, Request{CommonName: commonName, NotBefore: now, NotAfter: now.Add(lifetime)})
	if err != nil {
		return CA{}, fmt.Errorf("making CA %s: %w", commonName, err)
	}
	return CA{Cert: cert, Key: key}, nil
}

// Issue makes a certificate signed by the CA.
func (ca CA) Issue(r Request) (certPEM, keyPEM []byte, err error) {
	if len(r.Usages) == 0 {
		return nil, nil, fmt.Errorf("certificate %s: no key usage", r.CommonName)
	}
	parent, signer, err := ParsePair(ca.Cert, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the CA: %w", err)
	}
	cert, key, err := make1(parent, signer, r)
	if err != nil {
		return nil, nil, fmt.Errorf("making certificate %s: %w", r.CommonName, err)
	}
	return cert, key, nil
}

// Bundle returns the CA as one PEM text, certificate then key: the form
// in which osk keeps a CA under one key of a Secret.
func (ca CA) Bundle() []byte { return append(append([]byte{}, ca.Cert...), ca.Key...) }

// ParseBundle splits a Bundle into the CA's certificate and key and
// checks that they belong together.
func ParseBundle(bundle []byte) (CA, error) {
	var ca CA
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			ca.Cert = pem.EncodeToMemory(block)
		case "EC PRIVATE KEY":
			ca.Key = pem.EncodeToMemory(block)
		}
	}
	if ca.Cert == nil || ca.Key == nil {
		return CA{}, errors.New("the CA bundle lacks its certificate or its EC private key")
	}
	c, key, err := ParsePair(ca.Cert, ca.Key)
	if err != nil {
		return CA{}, err
	}
	if !c.IsCA {
		return CA{}, errors.New("the CA bundle's certificate is not a CA")
	}
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return CA{}, errors.New("the CA bundle's key does not match its certificate")
	}
	return ca, nil
}

// make1 makes a key and a certificate: self-signed (a CA) when parent is
// nil, else signed by parent's key.
func make1(parent *x509.Certificate, signer *ecdsa.PrivateKey, r Request) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: r.CommonName},
		NotBefore: r.NotBefore.Add(-time.Minute), NotAfter: r.NotAfter,
		// Key encipherment too, which GnuTLS (libvirt) asks of every
		// TLS certificate, whatever its key type.
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: r.Usages, BasicConstraintsValid: true,
	}
	tmpl.DNSNames, tmpl.IPAddresses = SplitHosts(r.Hosts)
	if parent == nil {
		tmpl.IsCA, tmpl.KeyUsage = true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// ParsePair parses a PEM certificate and its PEM EC private key.
func ParsePair(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	c, err := ParseCert(certPEM)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, errors.New("the key is not PEM")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the key: %w", err)
	}
	return c, key, nil
}

// ParseCert parses a PEM certificate.
func ParseCert(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// SplitHosts sorts hosts into DNS names and IP addresses.
func SplitHosts(hosts []string) (names []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			names = append(names, h)
		}
	}
	return names, ips
}
