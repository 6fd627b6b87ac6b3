// Package mariadbtest runs a real MariaDB server for tests: Debian's
// mariadbd, on loopback with a free port and a data directory of its own,
// stopped when the test ends.
package mariadbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/oskproject/osk/internal/testing/proctest"
)

// Server is a running MariaDB.
type Server struct {
	// Host and Port reach it over TCP.
	Host string
	Port int
	// AdminUser and AdminPassword may do anything, from anywhere.
	AdminUser, AdminPassword string
}

// Start starts a MariaDB server for t on a free port of 127.0.0.1, or
// fails t saying what to install.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartOn(t, "127.0.0.1", proctest.FreePort(t))
}

// StartOn starts a MariaDB server for t listening on host and port; its
// admin is root, from anywhere, as in MariaDB's container image.
func StartOn(t testing.TB, host string, port int) *Server {
	t.Helper()
	proctest.Need(t, "mariadb-server", "mariadbd", "mariadb-install-db")
	dir := t.TempDir()
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "mysqld.sock")
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"--user=root"}
	}
	install := exec.Command("mariadb-install-db", append([]string{"--no-defaults", "--datadir=" + data,
		"--auth-root-authentication-method=socket", "--skip-test-db"}, user...)...)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	p := proctest.Start(t, dir, "mariadbd", exec.Command("mariadbd", append([]string{"--no-defaults", "--datadir=" + data, "--socket=" + sock,
		"--bind-address=" + host, "--port=" + strconv.Itoa(port), "--skip-name-resolve",
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"), "--innodb-buffer-pool-size=32M",
		// A test's server needs no durability across a crash of the
		// machine: no sync to disk on each commit.
		"--innodb-flush-log-at-trx-commit=0"}, user...)...))
	s := &Server{Host: host, Port: port, AdminUser: "root", AdminPassword: "admin-password-for-tests"}
	s.createAdmin(t, sock, p)
	return s
}

// createAdmin makes the admin user through root's socket login.
func (s *Server) createAdmin(t testing.TB, sock string, p *proctest.Process) {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.InterpolateParams = "root", "unix", sock, true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p.WaitUntil(t, 30*time.Second, db.Ping)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE USER ?@'%' IDENTIFIED BY ?", s.AdminUser, s.AdminPassword); err != nil {
		t.Fatalf("creating the admin user: %v", err)
	}
	if _, err := db.ExecContext(ctx, "GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", s.AdminUser); err != nil {
		t.Fatalf("granting the admin user: %v", err)
	}
}

// Open connects as user to database over TCP.
func (s *Server) Open(t testing.TB, user, password, database string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), database
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// String describes the server.
func (s *Server) String() string { return fmt.Sprintf("MariaDB at %s:%d", s.Host, s.Port) }
