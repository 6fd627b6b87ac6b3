// Package keystonetest runs a real Keystone for tests: Debian's keystone
// (Zed) on a real MariaDB (its database made by osk's own db-init), set
// up with keystone-manage as osk's Jobs do and served by uwsgi on
// loopback, stopped when the test ends.
package keystonetest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/testing/mariadbtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// Server is a running Keystone.
type Server struct {
	// AuthURL is its v3 URL.
	AuthURL string
	// Region is the region of its own endpoints.
	Region string
	// AdminUser, AdminPassword and AdminProject are bootstrap's.
	AdminUser, AdminPassword, AdminProject string
}

// Start starts a Keystone for t on a database in db, or fails t saying
// what to install.
func Start(t testing.TB, db *mariadbtest.Server) *Server {
	t.Helper()
	proctest.Need(t, "keystone", "keystone-manage", "keystone-wsgi-public")
	proctest.Need(t, "uwsgi-plugin-python3", "uwsgi")
	dir := t.TempDir()
	port := proctest.FreePort(t)
	s := &Server{AuthURL: fmt.Sprintf("http://127.0.0.1:%d/v3", port), Region: "RegionOne",
		AdminUser: "admin", AdminPassword: rand.Text(), AdminProject: "admin"}
	password := rand.Text()
	dbInit := jobs.DBInit{Host: db.Host, Port: db.Port, AdminUser: db.AdminUser, AdminPassword: db.AdminPassword,
		User: "keystone", Password: password, Databases: []string{"keystone"}, Wait: 30 * time.Second}
	if err := dbInit.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "keystone.conf")
	write(t, conf, fmt.Sprintf(`[DEFAULT]
use_stderr = true
[database]
connection = mysql+pymysql://keystone:%[2]s@%[3]s:%[4]d/keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = %[1]s/fernet-keys
[fernet_receipts]
key_repository = %[1]s/fernet-keys
[credential]
key_repository = %[1]s/credential-keys
`, dir, password, db.Host, db.Port))
	user := []string{"--keystone-user", "root", "--keystone-group", "root"}
	manage(t, dir, conf, "db_sync")
	manage(t, dir, conf, append([]string{"fernet_setup"}, user...)...)
	manage(t, dir, conf, append([]string{"credential_setup"}, user...)...)
	manage(t, dir, conf, "bootstrap", "--bootstrap-password", s.AdminPassword,
		"--bootstrap-username", s.AdminUser, "--bootstrap-project-name", s.AdminProject, "--bootstrap-role-name", "admin",
		"--bootstrap-region-id", s.Region, "--bootstrap-internal-url", s.AuthURL, "--bootstrap-public-url", s.AuthURL)
	cmd := exec.Command("uwsgi", "--plugins", "python3", "--http11-socket", fmt.Sprintf("127.0.0.1:%d", port),
		"--wsgi-file", "/usr/bin/keystone-wsgi-public", "--master", "--processes", "2", "--threads", "2",
		"--lazy-apps", "--die-on-term")
	cmd.Env = append(os.Environ(), "OS_KEYSTONE_CONFIG_DIR="+dir)
	p := proctest.Start(t, dir, "keystone", cmd)
	p.WaitUntil(t, 60*time.Second, func() error {
		res, err := http.Get(s.AuthURL)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", s.AuthURL, res.Status)
		}
		return nil
	})
	return s
}

// manage runs keystone-manage, failing t with its output.
func manage(t testing.TB, dir, conf string, args ...string) {
	t.Helper()
	cmd := exec.Command("keystone-manage", append([]string{"--config-file", conf}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keystone-manage %s: %v\n%s", args[0], err, out)
	}
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
