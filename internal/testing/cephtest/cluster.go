package cephtest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/testing/proctest"
)

// Cluster is a real Ceph cluster on 127.0.0.1 from Debian's packages:
// one monitor, one manager and OSDs on sparse files, every daemon in the
// foreground under the test's temporary directory, cephx on.
type Cluster struct {
	// Dir holds its configuration, data, logs and sockets.
	Dir string
	// Conf is its ceph.conf; the admin's keyring is named in it.
	Conf string
	// FSID is the cluster's fsid.
	FSID string
	// MonAddr is the monitor's msgr1 address (IP:port).
	MonAddr string
	// Daemons are its processes, by Ceph name (mon.a, mgr.x, osd.0, ...).
	Daemons map[string]*proctest.Process
	t       testing.TB
}

// Start brings up a cluster with osds OSDs (each on a 2 GiB sparse
// file) and waits until they are up and in and Ceph is healthy.
func Start(t testing.TB, osds int) *Cluster {
	t.Helper()
	proctest.Need(t, "ceph-mon", "ceph-mon", "monmaptool")
	proctest.Need(t, "ceph-mgr", "ceph-mgr")
	proctest.Need(t, "ceph-osd", "ceph-osd")
	proctest.Need(t, "ceph-common", "ceph", "ceph-authtool", "rbd")
	dir, err := os.MkdirTemp("", "cephtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &Cluster{Dir: dir, Conf: filepath.Join(dir, "ceph.conf"), FSID: uuid(), Daemons: map[string]*proctest.Process{}, t: t}
	v1, v2 := proctest.FreePort(t), proctest.FreePort(t)
	c.MonAddr = fmt.Sprintf("127.0.0.1:%d", v1)
	c.writeConf(v1, v2)
	c.startMon(v1, v2)
	c.startMgr()
	for i := range osds {
		c.startOSD(i)
	}
	c.waitHealthy(osds)
	return c
}

// uuid returns a random version 4 UUID.
func uuid() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// writeConf writes ceph.conf: loopback only, daemons' ports in a range of
// free ports, everything under Dir, three replicas on one host.
func (c *Cluster) writeConf(v1, v2 int) {
	lo := proctest.FreePort(c.t)
	conf := fmt.Sprintf(`[global]
fsid = %[1]s
mon host = [v2:127.0.0.1:%[3]d,v1:127.0.0.1:%[2]d]
public addr = 127.0.0.1
ms bind port min = %[4]d
ms bind port max = %[5]d
run dir = %[6]s/run
admin socket = %[6]s/run/$name.asok
log file = %[6]s/log/$name.log
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 3
osd pool default min size = 2
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool delete = true
auth allow insecure global id reclaim = false
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 2147483648
bluestore fsck on mount = false
osd memory target = 268435456
[mon.a]
mon data = %[6]s/mon.a
[mgr.x]
mgr data = %[6]s/mgr.x
[osd]
osd data = %[6]s/$name
bluestore block path = %[6]s/blocks/$name
[client.admin]
keyring = %[6]s/admin.keyring
`, c.FSID, v1, v2, lo, lo+40, c.Dir)
	for _, d := range []string{"run", "log", "blocks", "mon.a", "mgr.x"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o755); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := os.WriteFile(c.Conf, []byte(conf), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// run runs a Ceph tool with the cluster's configuration and returns its
// standard output, failing the test with its output on an error.
func (c *Cluster) run(name string, args ...string) string {
	c.t.Helper()
	cmd := exec.CommandContext(c.t.Context(), name, args...)
	cmd.Env = append(os.Environ(), "CEPH_CONF="+c.Conf)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// Ceph runs the ceph CLI as the admin.
func (c *Cluster) Ceph(args ...string) string {
	c.t.Helper()
	return c.run("ceph", args...)
}

// Run runs another Ceph tool (rbd, radosgw-admin) as the admin.
func (c *Cluster) Run(name string, args ...string) string {
	c.t.Helper()
	return c.run(name, args...)
}

// Command returns a Ceph tool's command with the cluster's
// configuration, to run as the test wishes (as another client).
func (c *Cluster) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(c.t.Context(), name, args...)
	cmd.Env = append(os.Environ(), "CEPH_CONF="+c.Conf)
	return cmd
}

func (c *Cluster) daemon(name string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(args[0], append(args[1:], "-f", "-c", c.Conf)...)
	c.Daemons[name] = proctest.Start(c.t, filepath.Join(c.Dir, "log"), name+"-stdout", cmd)
}

func (c *Cluster) startMon(v1, v2 int) {
	c.t.Helper()
	monKeyring, admin := filepath.Join(c.Dir, "mon.keyring"), filepath.Join(c.Dir, "admin.keyring")
	c.run("ceph-authtool", "--create-keyring", monKeyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *")
	c.run("ceph-authtool", "--create-keyring", admin, "--gen-key", "-n", "client.admin",
		"--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *", "--cap", "mds", "allow *")
	c.run("ceph-authtool", monKeyring, "--import-keyring", admin)
	monmap := filepath.Join(c.Dir, "monmap")
	c.run("monmaptool", "--create", "--fsid", c.FSID,
		"--addv", "a", fmt.Sprintf("[v2:127.0.0.1:%d,v1:127.0.0.1:%d]", v2, v1), monmap)
	c.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", monKeyring, "-c", c.Conf)
	c.daemon("mon.a", "ceph-mon", "-i", "a")
}

func (c *Cluster) startMgr() {
	c.t.Helper()
	key := c.Ceph("auth", "get-or-create", "mgr.x", "mon", "allow profile mgr", "osd", "allow *", "mds", "allow *")
	c.write(filepath.Join(c.Dir, "mgr.x", "keyring"), key)
	c.daemon("mgr.x", "ceph-mgr", "-i", "x")
}

func (c *Cluster) startOSD(i int) {
	c.t.Helper()
	id := uuid()
	n := strings.TrimSpace(c.Ceph("osd", "new", id))
	if n != fmt.Sprint(i) {
		c.t.Fatalf("ceph osd new gave id %s, want %d", n, i)
	}
	data := filepath.Join(c.Dir, "osd."+n)
	if err := os.MkdirAll(data, 0o755); err != nil {
		c.t.Fatal(err)
	}
	key := c.Ceph("auth", "get-or-create", "osd."+n, "mon", "allow profile osd", "mgr", "allow profile osd", "osd", "allow *")
	c.write(filepath.Join(data, "keyring"), key)
	c.run("ceph-osd", "-i", n, "--mkfs", "--osd-uuid", id, "-c", c.Conf)
	c.daemon("osd."+n, "ceph-osd", "-i", n)
}

func (c *Cluster) write(path, content string) {
	c.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// waitHealthy waits until osds OSDs are up and in and Ceph says
// HEALTH_OK.
func (c *Cluster) waitHealthy(osds int) {
	c.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	want := fmt.Sprintf("%d osds: %d up", osds, osds)
	for {
		stat := c.Ceph("osd", "stat")
		health := c.Ceph("health")
		if strings.Contains(stat, want) && strings.HasPrefix(health, "HEALTH_OK") {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("Ceph not healthy after 3 minutes: %s; %s\n%s", strings.TrimSpace(stat), strings.TrimSpace(health),
				c.Ceph("status"))
		}
		time.Sleep(time.Second)
	}
}

// Health is `ceph health` (HEALTH_OK, ...).
func (c *Cluster) Health() string { return strings.TrimSpace(c.Ceph("health")) }

// MemoryKiB sums the resident memory of the cluster's daemons.
func (c *Cluster) MemoryKiB() int {
	total := 0
	for _, p := range c.Daemons {
		total += rssKiB(p.Pid())
	}
	return total
}

// DaemonMemoryKiB is one daemon's resident memory; 0 when it is not
// running.
func (c *Cluster) DaemonMemoryKiB(name string) int {
	if p, ok := c.Daemons[name]; ok {
		return rssKiB(p.Pid())
	}
	return 0
}

// rssKiB is a process's resident memory, from /proc; 0 when it is gone.
func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kib)
			return kib
		}
	}
	return 0
}

// StartRGW starts a RADOS gateway as the Ceph user who (client.rgw.NAME),
// with the caps Rook gives its gateways, serving HTTP (beast) on
// 127.0.0.1:port, and waits until it answers. Its options come from the
// monitors' configuration database, where whoever starts it set them for
// who. It returns the gateway's URL.
func (c *Cluster) StartRGW(who string, port int) string {
	c.t.Helper()
	proctest.Need(c.t, "radosgw", "radosgw")
	dir := filepath.Join(c.Dir, who)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	keyring := filepath.Join(dir, "keyring")
	c.write(keyring, c.Ceph("auth", "get-or-create", who, "mon", "allow rw", "osd", "allow rwx"))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c.daemon(who, "radosgw", "--name", who, "--keyring", keyring, "--rgw-data", dir,
		"--rgw-frontends", "beast endpoint="+addr)
	url := "http://" + addr
	c.Daemons[who].WaitUntil(c.t, 3*time.Minute, func() error {
		res, err := http.Get(url)
		if err != nil {
			return err
		}
		res.Body.Close()
		return nil
	})
	return url
}
