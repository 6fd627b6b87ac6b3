// Package monitoringtest runs Debian's Alertmanager (and Prometheus) for
// tests, on loopback ports of their own, with osk's rendered rules and
// inhibitions.
package monitoringtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/oskproject/osk/internal/testing/proctest"
)

// Alertmanager is a running Alertmanager.
type Alertmanager struct {
	// URL is its HTTP address, http://127.0.0.1:<port>.
	URL string
	// Process runs it.
	Process *proctest.Process
}

// StartAlertmanager starts Debian's Alertmanager with the given
// alertmanager.yml content (as a YAML-able value), stopped when t ends.
func StartAlertmanager(t testing.TB, config any) *Alertmanager {
	t.Helper()
	proctest.Need(t, "prometheus-alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	WriteYAML(t, filepath.Join(dir, "alertmanager.yml"), config)
	addr := proctest.FreeAddr(t)
	cmd := exec.Command("prometheus-alertmanager", "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--cluster.listen-address=")
	am := &Alertmanager{URL: "http://" + addr, Process: proctest.Start(t, dir, "alertmanager", cmd)}
	am.Process.WaitUntil(t, 30*time.Second, func() error { return ready(am.URL) })
	return am
}

// Alert is an alert as Alertmanager's API v2 takes and returns it.
type Alert struct {
	// Labels identify the alert.
	Labels map[string]string `json:"labels"`
	// StartsAt is when it began firing.
	StartsAt time.Time `json:"startsAt,omitzero"`
	// Status is Alertmanager's view of it (returned only).
	Status *AlertStatus `json:"status,omitempty"`
}

// AlertStatus says whether an alert is active or suppressed, and by what.
type AlertStatus struct {
	// State is "active" or "suppressed".
	State string `json:"state"`
	// InhibitedBy lists the fingerprints of the alerts inhibiting it.
	InhibitedBy []string `json:"inhibitedBy"`
}

// Post sends alerts to Alertmanager, as Prometheus does.
func (am *Alertmanager) Post(t testing.TB, alerts ...Alert) {
	t.Helper()
	b, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("posting alerts: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alerts: %s", resp.Status)
	}
}

// Alerts returns the alerts Alertmanager holds, with their status.
func (am *Alertmanager) Alerts(t testing.TB) []Alert {
	t.Helper()
	resp, err := http.Get(am.URL + "/api/v2/alerts")
	if err != nil {
		t.Fatalf("reading alerts: %v", err)
	}
	defer resp.Body.Close()
	var out []Alert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("reading alerts: %v", err)
	}
	return out
}

func ready(url string) error {
	resp, err := http.Get(url + "/-/ready")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/-/ready: %s", url, resp.Status)
	}
	return nil
}

// WriteYAML writes v as YAML to path.
func WriteYAML(t testing.TB, path string, v any) {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, b)
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
