package jobs_test

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/testing/mariadbtest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// TestMonitoringUserServesTheExporter creates StackLight's monitoring
// user as the catalog's job does (db-init with the catalog's grants only)
// on a real MariaDB, and runs Debian's mysqld_exporter as that user: it
// scrapes without an error and the user reads no data.
func TestMonitoringUserServesTheExporter(t *testing.T) {
	t.Parallel()
	proctest.Need(t, "prometheus-mysqld-exporter", "prometheus-mysqld-exporter")
	db := mariadbtest.Start(t)
	job := jobs.DBInit{Host: db.Host, Port: db.Port, AdminUser: db.AdminUser, AdminPassword: db.AdminPassword,
		User: catalog.MonitoringUser, Password: "monitoring-secret", Grants: catalog.MonitoringGrants, Wait: 30 * time.Second}
	for run := 1; run <= 2; run++ {
		if err := job.Run(t.Context()); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	if _, err := db.Open(t, catalog.MonitoringUser, "monitoring-secret", "mysql").ExecContext(t.Context(), "SELECT 1 FROM user"); err == nil {
		t.Error("the monitoring user can read the mysql database")
	}
	addr := proctest.FreeAddr(t)
	cmd := exec.Command("prometheus-mysqld-exporter", "--web.listen-address="+addr)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("DATA_SOURCE_NAME=%s:monitoring-secret@(%s:%d)/", catalog.MonitoringUser, db.Host, db.Port))
	p := proctest.Start(t, t.TempDir(), "mysqld-exporter", cmd)
	var metrics string
	p.WaitUntil(t, 30*time.Second, func() (err error) { metrics, err = get("http://" + addr + "/metrics"); return err })
	for _, want := range []string{"mysql_up 1", "mysql_exporter_last_scrape_error 0", "mysql_global_status_uptime "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(metrics, "mysql_up", "mysql_exporter_"))
		}
	}
	// Every collector the exporter runs by default succeeds with the
	// grants (a failing one counts in scrape_errors_total and sets
	// last_scrape_error).
	if errs := grepLines(metrics, "mysql_exporter_scrape_errors_total"); errs != "" {
		t.Errorf("collectors failed:\n%s", errs)
	}
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

func grepLines(s string, subs ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
