package nodeconfig

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oskproject/osk/internal/pki"
)

// CAEnv is the environment variable that hands the init container the CA
// (certificate and key in one PEM text) its node certificates are signed
// with.
const CAEnv = "OSK_NODE_CA"

// Certificates asks for the node's TLS certificates, in libvirt's layout
// under Dir.
type Certificates struct {
	// Dir is the root of the layout (libvirt's is /etc/pki).
	Dir string
	// ServerIP is the address the server certificate is for.
	ServerIP string
	// Hostname is the node's, also in the server certificate.
	Hostname string
	// ClientName is the client certificate's common name.
	ClientName string
}

// Files of libvirt's certificate layout, under Certificates.Dir: where
// libvirtd and libvirt's clients look by default.
const (
	FileCACert     = "CA/cacert.pem"
	FileServerCert = "libvirt/servercert.pem"
	FileServerKey  = "libvirt/private/serverkey.pem"
	FileClientCert = "libvirt/clientcert.pem"
	FileClientKey  = "libvirt/private/clientkey.pem"
)

// Issue makes the node's server and client certificates with the CA in
// bundle, valid from now until the CA ends, and returns the layout's
// files by path under Dir.
func (c Certificates) Issue(bundle []byte, now time.Time) (map[string][]byte, error) {
	ca, err := pki.ParseBundle(bundle)
	if err != nil {
		return nil, fmt.Errorf("reading the CA of $%s: %w", CAEnv, err)
	}
	caCert, err := pki.ParseCert(ca.Cert)
	if err != nil {
		return nil, fmt.Errorf("reading the CA of $%s: %w", CAEnv, err)
	}
	if !now.Before(caCert.NotAfter) {
		return nil, fmt.Errorf("the CA of $%s expired at %s", CAEnv, caCert.NotAfter.Format(time.RFC3339))
	}
	hosts := []string{c.ServerIP}
	if c.Hostname != "" {
		hosts = append(hosts, c.Hostname)
	}
	server := pki.Request{CommonName: c.Hostname, Hosts: hosts, NotBefore: now, NotAfter: caCert.NotAfter,
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if server.CommonName == "" {
		server.CommonName = c.ServerIP
	}
	client := pki.Request{CommonName: c.ClientName, NotBefore: now, NotAfter: caCert.NotAfter,
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	files := map[string][]byte{FileCACert: ca.Cert}
	for _, p := range []struct {
		req       pki.Request
		cert, key string
	}{{server, FileServerCert, FileServerKey}, {client, FileClientCert, FileClientKey}} {
		cert, key, err := ca.Issue(p.req)
		if err != nil {
			return nil, err
		}
		files[p.cert], files[p.key] = cert, key
	}
	return files, nil
}

// Write issues the certificates and writes them under Dir; keys are
// readable by their owner only.
func (c Certificates) Write(bundle []byte, now time.Time) error {
	files, err := c.Issue(bundle, now)
	if err != nil {
		return err
	}
	for name, data := range files {
		path := filepath.Join(c.Dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("writing the node's certificates: %w", err)
		}
		mode := os.FileMode(0o644)
		if strings.Contains(name, "private/") {
			mode = 0o600
		}
		if err := os.WriteFile(path, data, mode); err != nil {
			return fmt.Errorf("writing the node's certificates: %w", err)
		}
	}
	return nil
}

// CertificatesFor returns the certificates to make for the address named
// name among addrs, found with lookup.
func CertificatesFor(dir, name, clientName string, addrs []Address, lookup Lookup) (Certificates, error) {
	for _, a := range addrs {
		if a.Name != name {
			continue
		}
		ip, err := lookup(a.Interface)
		if err != nil {
			return Certificates{}, err
		}
		host, err := os.Hostname()
		if err != nil {
			return Certificates{}, fmt.Errorf("the node's host name: %w", err)
		}
		return Certificates{Dir: dir, ServerIP: ip, Hostname: host, ClientName: clientName}, nil
	}
	return Certificates{}, fmt.Errorf("certificate address %s: no --address of that name", name)
}
