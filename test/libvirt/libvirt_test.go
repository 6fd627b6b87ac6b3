// Package libvirt_test proves libvirt's remote access as osk renders it,
// on Debian's libvirtd started with the command, files and init
// container of the rendered DaemonSet (internal/testing/cloudtest):
// libvirtd takes remote clients over TLS only, and only those that show a
// client certificate of the deployment's libvirt CA.
package libvirt_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/nodeconfig"
	"github.com/oskproject/osk/internal/pki"
	"github.com/oskproject/osk/internal/testing/cloudtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// oskBinary is the osk command the init container runs, built once by
// TestMain.
var oskBinary string

func TestMain(m *testing.M) { cloudtest.Main(m, &oskBinary) }

const libvirtd = "DaemonSet/libvirt-libvirtd"

// libvirtWritable are the directories of libvirt's image that libvirtd
// writes: the container's own, here directories of the test's. /run holds
// its pid file, which another libvirtd of the machine (another bed's)
// would hold too.
var libvirtWritable = []string{"/etc/libvirt/qemu", "/var/log/libvirt", "/var/cache/libvirt", "/run"}

// TestRemoteAccess starts libvirtd from osk's rendered DaemonSet, in a
// network namespace of the test's whose loopback is the live-migration
// interface, and connects to it as another node's libvirtd would: osk's
// client certificate is let in, over TLS, with the server's certificate
// verified for the node's address; no TCP listener answers; a client
// certificate of another CA, one of osk's CA under another name, and a
// client without a certificate are refused.
func TestRemoteAccess(t *testing.T) {
	n := startLibvirtd(t)
	c, netns, ip, server := n.Cloud, n.netns, n.ip, n.server
	certs := c.Mounts(libvirtd)["/etc/pki"]
	osk, err := pki.ParseBundle([]byte(c.Creds.Value(catalog.CredentialSecret("libvirt"), catalog.KeyLibvirtCA)))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := pki.NewCA("osk-libvirt-ca", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tlsURI := func(dir string) string { return fmt.Sprintf("qemu+tls://%s/system?pkipath=%s", ip, dir) }
	oskClient := pkiDir(t, certs, nil, "")
	for _, tc := range []struct {
		name, uri string
		ok        bool
	}{
		{"osk's client certificate over TLS", tlsURI(oskClient), true},
		{"plain TCP", fmt.Sprintf("qemu+tcp://%s/system", ip), false},
		{"a client certificate of another CA", tlsURI(pkiDir(t, certs, &foreign, catalog.LibvirtClientName)), false},
		{"a certificate of osk's CA under another name", tlsURI(pkiDir(t, certs, &osk, "intruder")), false},
		{"no client certificate", tlsURI(pkiDir(t, certs, nil, "none")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := logSize(t, server.Log)
			out, err := virsh(netns, tc.uri, "hostname")
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v\n%s", err, out)
			case !tc.ok && err == nil:
				t.Fatalf("let in: %s", out)
			case strings.Contains(out, "Our own certificate"):
				t.Fatalf("the client refused itself, the server was not asked: %s", out)
			case !tc.ok:
				t.Logf("refused: %s\nlibvirtd: %s", strings.TrimSpace(out), logSince(t, server.Log, before))
			default:
				t.Logf("let in: %s", strings.TrimSpace(out))
			}
		})
	}
}

// node is libvirtd started from osk's rendered DaemonSet.
type node struct {
	*cloudtest.Cloud
	// netns is its network namespace, ip its live-migration address
	// there.
	netns, ip string
	server    *proctest.Process
}

// startLibvirtd renders testdata/compute.yaml and starts libvirtd from
// its DaemonSet, in a mount namespace where the pod's mounts are at their
// paths and a network namespace of the test's whose loopback is the
// live-migration interface, until it answers there. Other containers of
// the pod run as the test's Wrap says.
func startLibvirtd(t *testing.T) *node {
	t.Helper()
	proctest.Need(t, "libvirt-daemon-system", "libvirtd")
	proctest.Need(t, "libvirt-clients", "virsh")
	proctest.Need(t, "util-linux", "unshare")
	proctest.Need(t, "iproute2", "ip")
	start := time.Now()
	c := cloudtest.New(t, filepath.Join("testdata", "compute.yaml"), oskBinary)
	n := &node{Cloud: c, netns: newNetns(t)}
	c.Wrap = func(object string, p cloudtest.Process) cloudtest.Process {
		p = c.InMountNamespace(object, p, libvirtWritable...)
		p.Argv = append([]string{"ip", "netns", "exec", n.netns}, p.Argv...)
		return p
	}
	c.RunInit(libvirtd)
	n.ip = nodeEnv(t, filepath.Join(c.Mounts(libvirtd)[catalog.NodeConfigDir], "node.env"))["LIVE_MIGRATION_IP"]
	addr := net.JoinHostPort(n.ip, "16514")
	n.server = c.Start(libvirtd, func() error { return dialIn(n.netns, addr) })
	t.Logf("libvirtd answers on %s after %s", addr, time.Since(start).Round(time.Second))
	return n
}

// newNetns makes a network namespace with its loopback up, removed when
// the test ends.
func newNetns(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "osk-libvirt-" + hex.EncodeToString(b)
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	return name
}

// dialIn connects to addr from inside the network namespace.
func dialIn(netns, addr string) error {
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("ip", "netns", "exec", netns, "bash", "-c",
		fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("connecting to %s: %v: %s", addr, err, out)
	}
	return nil
}

// virsh runs one virsh command against uri from inside the namespace.
func virsh(netns, uri string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", netns, "timeout", "60", "virsh", "-c", uri}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// nodeEnv reads osk node-config's node.env.
func nodeEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		out[k] = v
	}
	return out
}

// pkiDir makes a client's pkipath directory: the CA certificate osk wrote
// on the node, so the client verifies the server, and a client
// certificate: osk's own for the node when ca is nil and name empty, none
// for name "none", else one signed by ca for name.
func pkiDir(t *testing.T, certs string, ca *pki.CA, name string) string {
	t.Helper()
	dir := t.TempDir()
	trusted, err := os.ReadFile(filepath.Join(certs, nodeconfig.FileCACert))
	if err != nil {
		t.Fatal(err)
	}
	if ca != nil {
		// The client's own CA too, or libvirt's client refuses its own
		// certificate before it asks the server.
		trusted = append(trusted, ca.Cert...)
	}
	write(t, filepath.Join(dir, "cacert.pem"), trusted)
	switch {
	case name == "":
		copyFile(t, filepath.Join(certs, nodeconfig.FileClientCert), filepath.Join(dir, "clientcert.pem"))
		copyFile(t, filepath.Join(certs, nodeconfig.FileClientKey), filepath.Join(dir, "clientkey.pem"))
	case name != "none":
		cert, key, err := ca.Issue(pki.Request{CommonName: name, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, "clientcert.pem"), cert)
		write(t, filepath.Join(dir, "clientkey.pem"), key)
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	write(t, to, b)
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// logSize is the size of a log file.
func logSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logSince returns what a log file got after offset.
func logSince(t *testing.T, path string, offset int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b[min(offset, int64(len(b))):]))
}
