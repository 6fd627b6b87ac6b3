// Package galera_test proves `osk galera start` on real MariaDB Galera
// members on loopback, each started exactly as a pod starts it, with the
// coordination record kept in the sandbox's API server.
package galera_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/oskproject/osk/internal/galera"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// rootPassword is the members' admin password.
const rootPassword = "galera-root-password-for-tests"

// recordName is the coordination record's name.
const recordName = "mariadb-galera"

// readyTimeout bounds the wait for a member to be Synced; a state transfer
// by rsync on loopback takes seconds.
const readyTimeout = 2 * time.Minute

// oskBin is the osk binary TestMain builds.
var oskBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "osk-galera-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	oskBin = filepath.Join(dir, "osk")
	build := exec.Command("go", "build", "-o", oskBin, "./cmd/osk")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: building osk: %v\n%s", err, out)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	sandboxtest.Main(m)
}

// member is one Galera member: its ports, its files, its current process.
type member struct {
	name                    string
	dir, data, cnf          string
	mysql, gmcast, ist, sst int
	proc                    *proctest.Process
	starts                  int
}

// cluster is three members and their coordination record.
type cluster struct {
	// owner is the test the members' processes live as long as, also
	// when subtests restart them.
	owner          testing.TB
	ns, kubeconfig string
	store          galera.Store
	members        []*member
	// sst is the state-transfer method; sstPassword, when set, is the SST
	// user's password, which osk galera start gets in
	// MARIADB_SST_PASSWORD.
	sst, sstPassword string
}

// withMariabackupSST makes the members transfer state with mariabackup,
// as in a pod, through the SST user osk galera start creates.
func withMariabackupSST(c *cluster) { c.sst, c.sstPassword = "mariabackup", "sst-password-for-tests" }

// newCluster prepares three members (not started) in a namespace of t's.
func newCluster(t testing.TB, options ...func(*cluster)) *cluster {
	t.Helper()
	proctest.Need(t, "mariadb-server", "mariadbd", "mariadb-install-db")
	proctest.Need(t, "rsync", "rsync")
	if _, err := os.Stat("/usr/lib/galera/libgalera_smm.so"); err != nil {
		t.Fatalf("Galera's provider is missing: install Debian's galera-4 (.ci/run does): %v", err)
	}
	env := sandboxtest.Get(t)
	c := &cluster{owner: t, ns: env.Namespace(t), kubeconfig: env.Sandbox.Kubeconfig(), sst: "rsync"}
	for _, o := range options {
		o(c)
	}
	c.store = galera.ConfigMapStore{Client: env.Client(), Namespace: c.ns, Name: recordName}
	for i := range 3 {
		c.members = append(c.members, newMember(t, fmt.Sprintf("mariadb-%d", i)))
	}
	for _, m := range c.members {
		m.writeDefaults(t, c)
	}
	return c
}

// newMember picks a member's ports and directories.
func newMember(t testing.TB, name string) *member {
	dir := t.TempDir()
	m := &member{name: name, dir: dir, data: filepath.Join(dir, "data"), cnf: filepath.Join(dir, "my.cnf"),
		mysql: proctest.FreePort(t), gmcast: proctest.FreePort(t), ist: proctest.FreePort(t), sst: proctest.FreePort(t)}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m.makeDataDir(t)
	return m
}

// makeDataDir creates an empty data directory. Run as root, rsync's SST
// daemon writes as nobody, so the directory is open to everyone; in a pod
// mariadbd, rsync and the directory share the mysql user.
func (m *member) makeDataDir(t testing.TB) {
	t.Helper()
	if err := os.Mkdir(m.data, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(m.data, 0o777); err != nil {
		t.Fatal(err)
	}
}

// writeDefaults writes the member's defaults file, as the operator's
// galera.cnf would be, with loopback ports of its own.
func (m *member) writeDefaults(t testing.TB, c *cluster) {
	t.Helper()
	cnf := fmt.Sprintf(`[mysqld]
port=%d
bind-address=127.0.0.1
socket=%s
pid-file=%s
skip-name-resolve
innodb_buffer_pool_size=32M
innodb_log_file_size=16M
innodb_autoinc_lock_mode=2
default_storage_engine=InnoDB
binlog_format=ROW

[galera]
wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=osk-test
wsrep_node_address=127.0.0.1:%d
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:%d;ist.recv_addr=127.0.0.1:%d;base_port=%d;gcache.size=64M"
wsrep_sst_receive_address=127.0.0.1:%d
wsrep_sst_method=%s
`, m.mysql, filepath.Join(m.dir, "mysqld.sock"), filepath.Join(m.dir, "mysqld.pid"), m.gmcast, m.gmcast, m.ist, m.gmcast, m.sst, c.sst)
	if c.sstPassword != "" {
		cnf += "wsrep_sst_auth=" + galera.SSTUser + ":" + c.sstPassword + "\n"
	}
	if err := os.WriteFile(m.cnf, []byte(cnf), 0o640); err != nil {
		t.Fatal(err)
	}
}

// members is the --members flag.
func (c *cluster) membersFlag() string {
	var parts []string
	for _, m := range c.members {
		parts = append(parts, fmt.Sprintf("%s=127.0.0.1:%d", m.name, m.gmcast))
	}
	return strings.Join(parts, ",")
}

// start starts a member through osk galera start, as its pod would; it
// runs until the cluster's owner test ends.
func (c *cluster) start(m *member) {
	m.starts++
	cmd := exec.Command(oskBin, "galera", "start",
		"--name="+m.name, "--members="+c.membersFlag(),
		"--defaults-file="+m.cnf, "--datadir="+m.data, "--user=root",
		"--mysql-address="+m.sqlAddress(), "--status-file="+m.statusFile(),
		"--record-namespace="+c.ns, "--record-name="+recordName, "--interval=500ms")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig, "MARIADB_ROOT_PASSWORD="+rootPassword, "MARIADB_SST_PASSWORD="+c.sstPassword)
	m.proc = proctest.Start(c.owner, m.dir, fmt.Sprintf("%s-start-%d", m.name, m.starts), cmd)
}

// startAll starts every member at once.
func (c *cluster) startAll() {
	for _, m := range c.members {
		c.start(m)
	}
}

// killAll kills every member (osk and mariadbd) with SIGKILL at once.
func (c *cluster) killAll(t testing.TB) {
	t.Helper()
	for _, m := range c.members {
		_ = m.proc.Signal(syscall.SIGKILL)
	}
	for _, m := range c.members {
		m.proc.Kill(t)
	}
}

func (m *member) sqlAddress() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.mysql)) }
func (m *member) statusFile() string { return filepath.Join(m.dir, "status.json") }
func (m *member) sql() galera.SQL {
	return galera.SQL{Address: m.sqlAddress(), User: "root", Password: rootPassword}
}

// waitReady waits until every member is Synced, Primary and writable, in
// a cluster of them all.
func (c *cluster) waitReady(t testing.TB) {
	t.Helper()
	for _, m := range c.members {
		m.proc.WaitUntil(t, readyTimeout, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			st, err := m.sql().Status(ctx)
			if err != nil {
				return err
			}
			if err := st.Serving(); err != nil {
				return err
			}
			if st.ClusterSize != len(c.members) {
				return fmt.Errorf("cluster size %d, want %d", st.ClusterSize, len(c.members))
			}
			return nil
		})
	}
}

// open connects to a member as root.
func (m *member) open(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", rootPassword, "tcp", m.sqlAddress()
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 3*time.Second, 5*time.Second, 5*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// record reads the coordination record.
func (c *cluster) record(t testing.TB) galera.Record {
	t.Helper()
	r, err := c.store.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// decisions returns the actions a member's osk logged, over all its starts.
func (m *member) decisions(t testing.TB) []string {
	t.Helper()
	var actions []string
	for i := 1; i <= m.starts; i++ {
		b, err := os.ReadFile(filepath.Join(m.dir, fmt.Sprintf("%s-start-%d.log", m.name, i)))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, `"msg":"Decided"`) {
				_, rest, _ := strings.Cut(line, `"action":"`)
				action, _, _ := strings.Cut(rest, `"`)
				actions = append(actions, action)
			}
		}
	}
	return actions
}

// bootstrapsLogged counts, over every member, how many starts decided to
// bootstrap.
func (c *cluster) bootstrapsLogged(t testing.TB) int {
	t.Helper()
	n := 0
	for _, m := range c.members {
		for _, a := range m.decisions(t) {
			if a == string(galera.Bootstrap) {
				n++
			}
		}
	}
	return n
}
