package cloudtest

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// StartEtcd starts Debian's etcd as the deployment's coordination
// service (cinder's locks), one member on the address its cluster DNS
// name takes here, and waits until it accepts connections.
func (c *Cloud) StartEtcd() {
	c.T.Helper()
	proctest.Need(c.T, "etcd-server", "etcd")
	ip := c.IP("etcd-server")
	client := fmt.Sprintf("http://%s:%d", ip, catalog.EtcdPort)
	peer := fmt.Sprintf("http://%s:2380", ip)
	cmd := exec.Command("etcd", "--name", "etcd-server-0", "--data-dir", filepath.Join(c.Root, "etcd-server", "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "etcd-server-0="+peer, "--initial-cluster-state", "new")
	p := proctest.Start(c.Top, c.Root, "etcd-server", cmd)
	c.Logs["etcd-server"] = p
	p.WaitUntil(c.T, time.Minute, func() error {
		conn, err := net.Dial("tcp", net.JoinHostPort(ip, fmt.Sprint(catalog.EtcdPort)))
		if err == nil {
			conn.Close()
		}
		return err
	})
}
