package monitoringtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	"github.com/oskproject/osk/internal/testing/proctest"
)

// Prometheus is a running Prometheus.
type Prometheus struct {
	// URL is its HTTP address.
	URL string
	// Process runs it.
	Process *proctest.Process
}

// StartPrometheus starts Debian's Prometheus with a rule file, scrape
// configurations and an Alertmanager, scraping and evaluating every
// interval; stopped when t ends.
func StartPrometheus(t testing.TB, rules []byte, scrapes []map[string]any, alertmanager string, interval time.Duration) *Prometheus {
	t.Helper()
	proctest.Need(t, "prometheus", "prometheus")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "rules.yaml"), rules)
	am, err := url.Parse(alertmanager)
	if err != nil {
		t.Fatal(err)
	}
	WriteYAML(t, filepath.Join(dir, "prometheus.yml"), map[string]any{
		"global":         map[string]any{"scrape_interval": interval.String(), "evaluation_interval": interval.String()},
		"rule_files":     []string{filepath.Join(dir, "rules.yaml")},
		"scrape_configs": scrapes,
		"alerting": map[string]any{"alertmanagers": []map[string]any{{
			"static_configs": []map[string]any{{"targets": []string{am.Host}}}}}},
	})
	addr := proctest.FreeAddr(t)
	cmd := exec.Command("prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	p := &Prometheus{URL: "http://" + addr, Process: proctest.Start(t, dir, "prometheus", cmd)}
	p.Process.WaitUntil(t, 30*time.Second, func() error { return ready(p.URL) })
	return p
}

// Query returns the samples of an instant query, as label sets with the
// value under "__value__".
func (p *Prometheus) Query(q string) ([]map[string]string, error) {
	resp, err := http.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	var out []map[string]string
	for _, r := range body.Data.Result {
		r.Metric["__value__"] = fmt.Sprint(r.Value[1])
		out = append(out, r.Metric)
	}
	return out, nil
}

// ScrapeConfigs turns a PodMonitor into Prometheus scrape
// configurations, as the Prometheus Operator does, for pods that are
// processes here: pods maps each pod's name to the address of the
// PodMonitor's port. Each target carries the namespace and pod labels the
// operator's discovery gives, and the PodMonitor's relabelings.
func ScrapeConfigs(pm *monitoringv1.PodMonitor, namespace string, pods map[string]string) []map[string]any {
	var out []map[string]any
	for i, e := range pm.Spec.PodMetricsEndpoints {
		var statics []map[string]any
		for pod, addr := range pods {
			statics = append(statics, map[string]any{"targets": []string{addr}, "labels": map[string]string{"namespace": namespace, "pod": pod}})
		}
		var relabels []map[string]any
		for _, r := range e.RelabelConfigs {
			relabels = append(relabels, map[string]any{"action": r.Action, "target_label": r.TargetLabel, "replacement": *r.Replacement})
		}
		sc := map[string]any{"job_name": fmt.Sprintf("podMonitor/%s/%s/%d", namespace, pm.Name, i), "metrics_path": e.Path,
			"static_configs": statics, "relabel_configs": relabels}
		if len(e.Params) > 0 {
			sc["params"] = e.Params
		}
		out = append(out, sc)
	}
	return out
}

// Webhook receives Alertmanager's notifications.
type Webhook struct {
	// URL is where Alertmanager posts.
	URL string
	mu  sync.Mutex
	got []Notification
}

// Notification is one alert of a webhook message.
type Notification struct {
	// Status is "firing" or "resolved".
	Status string `json:"status"`
	// Labels identify the alert.
	Labels map[string]string `json:"labels"`
	// Annotations describe it.
	Annotations map[string]string `json:"annotations"`
	// Received is when the webhook got it.
	Received time.Time `json:"-"`
}

// StartWebhook serves a webhook receiver on loopback until t ends.
func StartWebhook(t testing.TB) *Webhook {
	t.Helper()
	w := &Webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []Notification `json:"alerts"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &msg); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, a := range msg.Alerts {
			a.Received = time.Now()
			w.got = append(w.got, a)
		}
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// Find returns the first notification of an alert in a status.
func (w *Webhook) Find(alert, status string) (Notification, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.got {
		if n.Labels["alertname"] == alert && n.Status == status {
			return n, true
		}
	}
	return Notification{}, false
}

// Names returns the alert names received in a status.
func (w *Webhook) Names(status string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, n := range w.got {
		if n.Status == status {
			out = append(out, n.Labels["alertname"])
		}
	}
	return out
}

// Receiving returns an alertmanager.yml that sends every alert to the
// webhook at once, with inhibitions.
func (w *Webhook) Receiving(inhibit any) map[string]any {
	return map[string]any{
		"route": map[string]any{"receiver": "test", "group_by": []string{"alertname", "pod"},
			"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
		"receivers":     []map[string]any{{"name": "test", "webhook_configs": []map[string]any{{"url": w.URL, "send_resolved": true}}}},
		"inhibit_rules": inhibit,
	}
}
