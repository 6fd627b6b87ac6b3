// Package galeratest runs three real MariaDB Galera members on loopback
// for tests, each started exactly as a pod starts it (osk galera start),
// with the coordination record in the sandbox's API server (the test
// package's TestMain runs sandboxtest.Main).
package galeratest

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

// RootPassword is the members' admin password.
const RootPassword = "galera-root-password-for-tests"

// RecordName is the coordination record's name.
const RecordName = "mariadb-galera"

// ReadyTimeout bounds the wait for a member to be Synced; a state transfer
// by rsync on loopback takes seconds.
const ReadyTimeout = 2 * time.Minute

// Member is one Galera member: its ports, its files, its current process.
type Member struct {
	// Name is the member's name (mariadb-<i>).
	Name string
	// Dir holds its files; Data is its data directory, Cnf its defaults
	// file.
	Dir, Data, Cnf string
	// MySQL, GMCast, IST and SSTPort are its loopback ports.
	MySQL, GMCast, IST, SSTPort int
	// Proc is its current osk galera start process.
	Proc *proctest.Process
	// Starts counts its starts.
	Starts int
}

// Cluster is three members and their coordination record.
type Cluster struct {
	// Owner is the test the members' processes live as long as, also
	// when subtests restart them.
	Owner testing.TB
	// NS is the record's namespace in the sandbox; Kubeconfig reaches it.
	NS, Kubeconfig string
	// Store is the coordination record.
	Store galera.Store
	// Members are the three members.
	Members []*Member
	// SST is the state-transfer method; SSTPassword, when set, is the SST
	// user's password, which osk galera start gets in
	// MARIADB_SST_PASSWORD.
	SST, SSTPassword string
	// OskBin is the osk binary the members run.
	OskBin string
}

// WithMariabackupSST makes the members transfer state with mariabackup,
// as in a pod, through the SST user osk galera start creates.
func WithMariabackupSST(c *Cluster) { c.SST, c.SSTPassword = "mariabackup", "sst-password-for-tests" }

// New prepares three members (not started) running oskBin, with their
// record in a namespace of t's in the sandbox of sandboxtest.Main.
func New(t testing.TB, oskBin string, options ...func(*Cluster)) *Cluster {
	t.Helper()
	proctest.Need(t, "mariadb-server", "mariadbd", "mariadb-install-db")
	proctest.Need(t, "rsync", "rsync")
	if _, err := os.Stat("/usr/lib/galera/libgalera_smm.so"); err != nil {
		t.Fatalf("Galera's provider is missing: install Debian's galera-4 (.ci/run does): %v", err)
	}
	env := sandboxtest.Get(t)
	c := &Cluster{Owner: t, NS: env.Namespace(t), Kubeconfig: env.Sandbox.Kubeconfig(), SST: "rsync", OskBin: oskBin}
	for _, o := range options {
		o(c)
	}
	c.Store = galera.ConfigMapStore{Client: env.Client(), Namespace: c.NS, Name: RecordName}
	for i := range 3 {
		c.Members = append(c.Members, NewMember(t, fmt.Sprintf("mariadb-%d", i)))
	}
	for _, m := range c.Members {
		m.WriteDefaults(t, c)
	}
	return c
}

// NewMember picks a member's ports and directories.
func NewMember(t testing.TB, name string) *Member {
	dir := t.TempDir()
	m := &Member{Name: name, Dir: dir, Data: filepath.Join(dir, "data"), Cnf: filepath.Join(dir, "my.cnf"),
		MySQL: proctest.FreePort(t), GMCast: proctest.FreePort(t), IST: proctest.FreePort(t), SSTPort: proctest.FreePort(t)}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m.MakeDataDir(t)
	return m
}

// MakeDataDir creates an empty data directory. Run as root, rsync's SST
// daemon writes as nobody, so the directory is open to everyone; in a pod
// mariadbd, rsync and the directory share the mysql user.
func (m *Member) MakeDataDir(t testing.TB) {
	t.Helper()
	if err := os.Mkdir(m.Data, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(m.Data, 0o777); err != nil {
		t.Fatal(err)
	}
}

// WriteDefaults writes the member's defaults file, as the operator's
// galera.Cnf would be, with loopback ports of its own.
func (m *Member) WriteDefaults(t testing.TB, c *Cluster) {
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
`, m.MySQL, filepath.Join(m.Dir, "mysqld.sock"), filepath.Join(m.Dir, "mysqld.pid"), m.GMCast, m.GMCast, m.IST, m.GMCast, m.SSTPort, c.SST)
	if c.SSTPassword != "" {
		cnf += "wsrep_sst_auth=" + galera.SSTUser + ":" + c.SSTPassword + "\n"
	}
	if err := os.WriteFile(m.Cnf, []byte(cnf), 0o640); err != nil {
		t.Fatal(err)
	}
}

// MembersFlag is the --members flag.
func (c *Cluster) MembersFlag() string {
	var parts []string
	for _, m := range c.Members {
		parts = append(parts, fmt.Sprintf("%s=127.0.0.1:%d", m.Name, m.GMCast))
	}
	return strings.Join(parts, ",")
}

// Start starts a member through osk galera start, as its pod would; it
// runs until the cluster's owner test ends.
func (c *Cluster) Start(m *Member) {
	m.Starts++
	cmd := exec.Command(c.OskBin, "galera", "start",
		"--name="+m.Name, "--members="+c.MembersFlag(),
		"--defaults-file="+m.Cnf, "--datadir="+m.Data, "--user=root",
		"--mysql-address="+m.SQLAddress(), "--status-file="+m.StatusFile(),
		"--record-namespace="+c.NS, "--record-name="+RecordName, "--interval=500ms")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "MARIADB_ROOT_PASSWORD="+RootPassword, "MARIADB_SST_PASSWORD="+c.SSTPassword)
	m.Proc = proctest.Start(c.Owner, m.Dir, fmt.Sprintf("%s-start-%d", m.Name, m.Starts), cmd)
}

// StartAll starts every member at once.
func (c *Cluster) StartAll() {
	for _, m := range c.Members {
		c.Start(m)
	}
}

// KillAll kills every member (osk and mariadbd) with SIGKILL at once.
func (c *Cluster) KillAll(t testing.TB) {
	t.Helper()
	for _, m := range c.Members {
		_ = m.Proc.Signal(syscall.SIGKILL)
	}
	for _, m := range c.Members {
		m.Proc.Kill(t)
	}
}

// SQLAddress is the member's SQL address.
func (m *Member) SQLAddress() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.MySQL)) }

// StatusFile is osk galera start's status file.
func (m *Member) StatusFile() string { return filepath.Join(m.Dir, "status.json") }

// SQL reaches the member as root.
func (m *Member) SQL() galera.SQL {
	return galera.SQL{Address: m.SQLAddress(), User: "root", Password: RootPassword}
}

// WaitReady waits until every member is Synced, Primary and writable, in
// a cluster of them all.
func (c *Cluster) WaitReady(t testing.TB) {
	t.Helper()
	for _, m := range c.Members {
		m.Proc.WaitUntil(t, ReadyTimeout, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			st, err := m.SQL().Status(ctx)
			if err != nil {
				return err
			}
			if err := st.Serving(); err != nil {
				return err
			}
			if st.ClusterSize != len(c.Members) {
				return fmt.Errorf("cluster size %d, want %d", st.ClusterSize, len(c.Members))
			}
			return nil
		})
	}
}

// Open connects to a member as root.
func (m *Member) Open(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", RootPassword, "tcp", m.SQLAddress()
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 3*time.Second, 5*time.Second, 5*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Record reads the coordination record.
func (c *Cluster) Record(t testing.TB) galera.Record {
	t.Helper()
	r, err := c.Store.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Decisions returns the actions a member's osk logged, over all its starts.
func (m *Member) Decisions(t testing.TB) []string {
	t.Helper()
	var actions []string
	for i := 1; i <= m.Starts; i++ {
		b, err := os.ReadFile(filepath.Join(m.Dir, fmt.Sprintf("%s-start-%d.log", m.Name, i)))
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

// BootstrapsLogged counts, over every member, how many starts decided to
// bootstrap.
func (c *Cluster) BootstrapsLogged(t testing.TB) int {
	t.Helper()
	n := 0
	for _, m := range c.Members {
		for _, a := range m.Decisions(t) {
			if a == string(galera.Bootstrap) {
				n++
			}
		}
	}
	return n
}
