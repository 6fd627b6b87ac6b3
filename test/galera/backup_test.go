package galera_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/oskproject/osk/internal/galera"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// backupToken is what the backup job presents to the agent.
const backupToken = "backup-token-for-tests"

// TestBackupRestoreRoundTrip backs a running cluster up through a
// member's agent (a full backup, then an incremental one), destroys every
// member's data, restores the incremental backup into one member and
// starts them all: that member bootstraps, the others join, and exactly
// the rows committed before the incremental backup are back. The members
// transfer state with mariabackup, as in a pod, as the SST user osk
// galera start creates.
func TestBackupRestoreRoundTrip(t *testing.T) {
	proctest.Need(t, "mariadb-backup", "mariabackup", "mbstream")
	proctest.Need(t, "socat", "socat")
	c := newCluster(t, withMariabackupSST)
	c.StartAll()
	c.WaitReady(t)
	checkSSTUser(c, t)
	db := c.Members[0].Open(t)
	createTable(t, db)
	dir := t.TempDir()
	agents := startAgents(c, t)
	first := insertRows(t, db, 1, 100)
	full := backup(c, t, dir, agents, galera.BackupFull)
	second := insertRows(t, db, 101, 200)
	inc := backup(c, t, dir, agents, galera.BackupIncremental)
	if inc.Kind != galera.BackupIncremental || inc.Base != full.Name || inc.Member != full.Member || inc.FromLSN != full.ToLSN {
		t.Fatalf("incremental backup %+v does not build on the full one %+v", inc, full)
	}
	insertRows(t, db, 201, 300)
	c.KillAll(t)
	for _, m := range c.Members {
		if err := os.RemoveAll(m.Data); err != nil {
			t.Fatal(err)
		}
		m.MakeDataDir(t)
	}
	start := time.Now()
	restore := exec.Command(oskBin, "galera", "restore", "--from="+filepath.Join(dir, inc.Name),
		"--datadir="+c.Members[0].Data, "--defaults-file="+c.Members[0].Cnf, "--work-dir="+t.TempDir())
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("osk galera restore: %v\n%s", err, out)
	}
	t.Logf("restored the full and the incremental backup in %s", time.Since(start).Round(time.Millisecond))
	c.StartAll()
	c.WaitReady(t)
	got := ids(t, c.Members[2].Open(t))
	want := append(first, second...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the restore the table holds %d rows (%v...), want ids 1-200", len(got), got[:min(3, len(got))])
	}
	rec := c.Record(t)
	if last := rec.Cluster.History[len(rec.Cluster.History)-1]; last.Member != c.Members[0].Name {
		t.Errorf("bootstrap after the restore by %s, want %s, the restored member", last.Member, c.Members[0].Name)
	}
}

// startAgents starts a backup agent beside every member and returns the
// --agents flag.
func startAgents(c *cluster, t *testing.T) string {
	var agents []string
	for _, m := range c.Members {
		port := proctest.FreePort(t)
		cmd := exec.Command(oskBin, "galera", "backup-agent", fmt.Sprintf("--listen=127.0.0.1:%d", port),
			"--defaults-file="+m.Cnf, "--datadir="+m.Data, "--mysql-address="+m.SQLAddress())
		cmd.Env = append(os.Environ(), "MARIADB_ROOT_PASSWORD="+rootPassword, "MARIADB_BACKUP_TOKEN="+backupToken)
		p := proctest.Start(t, m.Dir, m.Name+"-agent", cmd)
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		p.WaitUntil(t, 10*time.Second, func() error {
			resp, err := http.Get(url + galera.BackupPath)
			if err == nil {
				resp.Body.Close()
			}
			return err
		})
		agents = append(agents, m.Name+"="+url)
	}
	return strings.Join(agents, ",")
}

// backup runs osk galera backup and returns the backup it stored last.
func backup(c *cluster, t *testing.T, dir, agents, kind string) galera.Backup {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(oskBin, "galera", "backup", "--dir="+dir, "--kind="+kind, "--agents="+agents, "--keep=10")
	cmd.Env = append(os.Environ(), "MARIADB_BACKUP_TOKEN="+backupToken)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("osk galera backup --kind=%s: %v\n%s", kind, err, out)
	}
	backups, err := galera.ListBackups(dir)
	if err != nil || len(backups) == 0 {
		t.Fatalf("no backup stored: %v", err)
	}
	b := backups[len(backups)-1]
	t.Logf("%s backup %s of %s in %s", b.Kind, b.Name, b.Member, time.Since(start).Round(time.Millisecond))
	return b
}

// insertRows inserts ids from..to and returns them.
func insertRows(t *testing.T, db *sql.DB, from, to int64) []int64 {
	t.Helper()
	var out []int64
	for id := from; id <= to; id++ {
		if _, err := db.ExecContext(t.Context(), "INSERT INTO osk.t (id) VALUES (?)", id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// ids returns the ids in osk.t, in order.
func ids(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT id FROM osk.t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// checkSSTUser logs in as the SST user on every member, through its
// socket, as a donor's mariabackup does.
func checkSSTUser(c *cluster, t *testing.T) {
	t.Helper()
	for _, m := range c.Members {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = galera.SSTUser, c.SSTPassword, "unix", filepath.Join(m.Dir, "mysqld.sock")
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		var grants string
		err = db.QueryRowContext(t.Context(), "SHOW GRANTS").Scan(&grants)
		db.Close()
		if err != nil || !strings.Contains(grants, "RELOAD, PROCESS, LOCK TABLES") {
			t.Errorf("the SST user on %s: %v (grants %q)", m.Name, err, grants)
		}
	}
}
