package cloudtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ResolveNames makes the bed keep the cluster DNS names in the files and
// commands it writes, instead of its loopback addresses, and resolve them
// as the cluster's DNS would: each process started from a rendered
// container runs in a mount namespace whose /etc/hosts maps every name
// the bed wrote to that name's address, and the bed's Go clients dial
// through Transport. TLS needs it: a certificate of osk's names Services,
// and a client checks the name it dialled. Call it before anything is
// started from a rendered container.
func (c *Cloud) ResolveNames() {
	c.T.Helper()
	c.hosts = filepath.Join(c.Root, "hosts")
	c.hostNames = map[string]bool{}
	if err := os.WriteFile(c.hosts, []byte("127.0.0.1 localhost\n::1 localhost\n"), 0o644); err != nil {
		c.T.Fatal(err)
	}
}

// host is what the bed writes for a cluster DNS name: the name's loopback
// address, or the name itself once ResolveNames added it to the hosts
// file.
func (c *Cloud) host(name string) string {
	ip := c.IP(name)
	if c.hosts == "" {
		return ip
	}
	if !c.hostNames[name] {
		f, err := os.OpenFile(c.hosts, os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			_, err = fmt.Fprintf(f, "%s %s\n", ip, name)
			err = closeWith(f, err)
		}
		if err != nil {
			c.T.Fatalf("adding %s to the bed's hosts file: %v", name, err)
		}
		c.hostNames[name] = true
	}
	return name
}

func closeWith(f *os.File, err error) error {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// withHosts runs p in a mount namespace of its own whose /etc/hosts is
// the bed's, when ResolveNames was called.
func (c *Cloud) withHosts(p Process) Process {
	if c.hosts == "" {
		return p
	}
	p.Argv = append([]string{"unshare", "--mount", "--propagation", "private", "/bin/sh", "-ec",
		fmt.Sprintf(`mount --bind %q /etc/hosts; exec "$@"`, c.hosts), "sh"}, p.Argv...)
	return p
}

// Transport returns an HTTP transport that dials a cluster DNS name at
// the bed's address for it, leaving the name (TLS's server name, which
// the certificate is checked against) as it is, and trusts only roots.
func (c *Cloud) Transport(roots *x509.CertPool) *http.Transport {
	var d net.Dialer
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if clusterHost.MatchString(host) && strings.Count(host, ".") >= 3 {
			host = c.IP(host)
		}
		return d.DialContext(ctx, network, net.JoinHostPort(host, port))
	}
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return t
}

// projected returns what a Secret or ConfigMap volume holds: the keys its
// items name, at their paths, or every key.
func projected(vol *corev1.Volume, data map[string][]byte) map[string][]byte {
	var items []corev1.KeyToPath
	switch {
	case vol.Secret != nil:
		items = vol.Secret.Items
	case vol.ConfigMap != nil:
		items = vol.ConfigMap.Items
	}
	if len(items) == 0 {
		return data
	}
	out := map[string][]byte{}
	for _, it := range items {
		if v, ok := data[it.Key]; ok {
			out[it.Path] = v
		}
	}
	return out
}
