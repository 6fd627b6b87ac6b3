package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is how long the sandbox's certificates are valid; sandboxes
// are short-lived, so a year is plenty.
const certValidity = 365 * 24 * time.Hour

// serviceIP is the ClusterIP of the kubernetes Service: the first address
// of serviceCIDR, which the serving certificate must name.
const (
	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

// keyPair is a PEM-encoded certificate and private key, also written to
// files.
type keyPair struct {
	Cert, Key         []byte
	CertFile, KeyFile string
}

// authority is the sandbox's certificate authority. Every component trusts
// it, for serving and for client certificates.
type authority struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pair keyPair
}

// newAuthority creates a certificate authority and writes it to ca.crt and
// ca.key in dir.
func newAuthority(dir string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the CA key: %w", err)
	}
	tmpl, err := certTemplate(pkix.Name{CommonName: "osk-sandbox-ca"})
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the CA certificate: %w", err)
	}
	a := &authority{dir: dir, cert: cert, key: key}
	a.pair, err = a.write("ca", der, key)
	return a, err
}

// issueServing issues the certificate every component serves with, for
// the loopback address and the names of the kubernetes Service. It is also
// valid for client authentication: etcd's gateway connects to etcd with it.
func (a *authority) issueServing(name string) (keyPair, error) {
	return a.issue(name, pkix.Name{CommonName: "osk-sandbox"}, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		c.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceIP)}
		c.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"}
	})
}

// issueClient issues a client certificate for user in groups.
func (a *authority) issueClient(name, user string, groups ...string) (keyPair, error) {
	return a.issue(name, pkix.Name{CommonName: user, Organization: groups}, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
}

// issue signs a new key for subject, with the usages and names customize
// sets, and writes it to <name>.crt and <name>.key.
func (a *authority) issue(name string, subject pkix.Name, customize func(*x509.Certificate)) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generating the %s key: %w", name, err)
	}
	tmpl, err := certTemplate(subject)
	if err != nil {
		return keyPair{}, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	customize(tmpl)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return keyPair{}, fmt.Errorf("signing the %s certificate: %w", name, err)
	}
	return a.write(name, der, key)
}

// write stores a certificate and its key as PEM files in a.dir.
func (a *authority) write(name string, der []byte, key *ecdsa.PrivateKey) (keyPair, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyPair{}, fmt.Errorf("encoding the %s key: %w", name, err)
	}
	p := keyPair{
		Cert:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Key:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		CertFile: filepath.Join(a.dir, name+".crt"),
		KeyFile:  filepath.Join(a.dir, name+".key"),
	}
	if err := os.WriteFile(p.CertFile, p.Cert, 0o644); err != nil {
		return keyPair{}, fmt.Errorf("writing the %s certificate: %w", name, err)
	}
	if err := os.WriteFile(p.KeyFile, p.Key, 0o600); err != nil {
		return keyPair{}, fmt.Errorf("writing the %s key: %w", name, err)
	}
	return p, nil
}

// newSigningKey writes the key pair signing service account tokens to
// <name>.key and its public half to <name>.pub in dir.
func newSigningKey(dir, name string) (keyFile, pubFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generating the service account key: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encoding the service account key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", "", fmt.Errorf("encoding the service account public key: %w", err)
	}
	keyFile, pubFile = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", fmt.Errorf("writing the service account key: %w", err)
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return "", "", fmt.Errorf("writing the service account public key: %w", err)
	}
	return keyFile, pubFile, nil
}

// certTemplate returns a certificate for subject with a random serial
// number, valid from an hour ago (to tolerate clock skew) for certValidity.
func certTemplate(subject pkix.Name) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
	}, nil
}
