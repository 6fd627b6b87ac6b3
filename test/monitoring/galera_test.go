package monitoring_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/testing/galeratest"
	"github.com/oskproject/osk/internal/testing/proctest"
)

// monitoringPassword is the monitoring user's password on the bed.
const monitoringPassword = "monitoring-password-for-tests"

// TestGaleraMemberKilled: three Galera members run by osk galera start,
// the monitoring user created by the rendered job mariadb-monitoring-user,
// Debian's mysqld_exporter beside each as that user, scraped as osk's
// PodMonitor says. SIGKILL of one member fires GaleraMemberNotReady for
// it (received by the webhook) while GaleraClusterSizeBelowMembers fires
// in Prometheus and is inhibited; once the member rejoined, the alert
// resolves.
func TestGaleraMemberKilled(t *testing.T) {
	proctest.Need(t, "prometheus-mysqld-exporter", "prometheus-mysqld-exporter")
	s := renderStack(t)
	osk := proctest.BuildOsk(t)
	c := galeratest.New(t, osk)
	c.StartAll()
	c.WaitReady(t)
	runMonitoringUserJob(t, osk, c.Members[0])
	pods := map[string]string{}
	for i, m := range c.Members {
		pods[fmt.Sprintf("mariadb-server-%d", i)] = startExporter(t, m)
	}
	prom, hook := s.start(t, scrapeConfigs(t, s, "mariadb-server", pods))
	waitFor(t, time.Minute, "three members ready in Prometheus", func() error {
		got, err := prom.Query(fmt.Sprintf(`mysql_global_status_wsrep_ready{namespace=%q,osk_target="galera"} == 1`, s.d.Namespace))
		if err == nil && len(got) != 3 {
			err = fmt.Errorf("%d ready members: %v", len(got), got)
		}
		return err
	})

	killed := time.Now()
	c.Members[1].Proc.Kill(t)
	waitFor(t, 3*time.Minute, "GaleraMemberNotReady at the webhook", func() error {
		if n, ok := hook.Find("GaleraMemberNotReady", "firing"); ok && n.Labels["pod"] == "mariadb-server-1" {
			t.Logf("GaleraMemberNotReady received %s after the SIGKILL (for: 1m): %s", n.Received.Sub(killed).Round(time.Second), n.Annotations["summary"])
			return nil
		}
		return fmt.Errorf("received so far: %v", hook.Names("firing"))
	})
	waitFor(t, time.Minute, "GaleraClusterSizeBelowMembers firing in Prometheus", func() error {
		got, err := prom.Query(`ALERTS{alertname="GaleraClusterSizeBelowMembers",alertstate="firing"}`)
		if err == nil && len(got) == 0 {
			err = fmt.Errorf("not firing")
		}
		return err
	})
	time.Sleep(5 * time.Second) // Alertmanager's group interval is 1 s
	if _, ok := hook.Find("GaleraClusterSizeBelowMembers", "firing"); ok {
		t.Errorf("GaleraClusterSizeBelowMembers reached the webhook: GaleraMemberNotReady should inhibit it")
	}

	rejoin := time.Now()
	c.Start(c.Members[1])
	c.WaitReady(t)
	t.Logf("member rejoined in %s", time.Since(rejoin).Round(time.Second))
	waitFor(t, 2*time.Minute, "GaleraMemberNotReady resolved at the webhook", func() error {
		if n, ok := hook.Find("GaleraMemberNotReady", "resolved"); ok {
			t.Logf("resolved %s after the restart", n.Received.Sub(rejoin).Round(time.Second))
			return nil
		}
		return fmt.Errorf("not resolved yet")
	})
}

// runMonitoringUserJob runs the rendered job mariadb-monitoring-user's
// command with the bed's osk, against member m.
func runMonitoringUserJob(t *testing.T, osk string, m *galeratest.Member) {
	t.Helper()
	d, err := manifest.Load("../../examples/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, o := range res.Objects {
		if j, ok := o.(*batchv1.Job); ok && j.Name == "mariadb-monitoring-user" {
			args = j.Spec.Template.Spec.Containers[0].Command[1:]
		}
	}
	if args == nil {
		t.Fatal("examples/full.yaml renders no job mariadb-monitoring-user")
	}
	host, port, _ := strings.Cut(m.SQLAddress(), ":")
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--host="):
			args[i] = "--host=" + host
		case strings.HasPrefix(a, "--port="):
			args[i] = "--port=" + port
		}
	}
	cmd := exec.Command(osk, args...)
	cmd.Env = append(cmd.Environ(), "DB_ROOT_PASSWORD="+galeratest.RootPassword, "DB_PASSWORD="+monitoringPassword)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("osk %v: %v\n%s", args, err, out)
	}
}

// startExporter runs Debian's mysqld_exporter for member m as the
// monitoring user and returns its address.
func startExporter(t *testing.T, m *galeratest.Member) string {
	t.Helper()
	addr := proctest.FreeAddr(t)
	cmd := exec.Command("prometheus-mysqld-exporter", "--web.listen-address="+addr)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("DATA_SOURCE_NAME=monitoring:%s@(%s)/", monitoringPassword, m.SQLAddress()))
	proctest.Start(t, t.TempDir(), m.Name+"-exporter", cmd)
	return addr
}
