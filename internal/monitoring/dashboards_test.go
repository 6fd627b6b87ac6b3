package monitoring_test

import (
	"encoding/json"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oskproject/osk/internal/monitoring"
)

// TestDashboards: every dashboard's ConfigMap carries the sidecar's label
// and one JSON file whose every panel has queries, each a PromQL
// expression the parser accepts, scoped to the deployment's namespace.
func TestDashboards(t *testing.T) {
	p := testParams()
	ds := monitoring.Dashboards(p)
	if len(ds) != 5 {
		t.Errorf("%d dashboards, want Galera, RabbitMQ, APIs, compute capacity and osk", len(ds))
	}
	for _, d := range ds {
		cm, err := monitoring.DashboardConfigMap(p, d, metav1.ObjectMeta{Labels: map[string]string{"release": "stacklight"}})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Labels[monitoring.DashboardLabel] != monitoring.DashboardLabelValue || cm.Labels["release"] != "stacklight" {
			t.Errorf("%s: labels %v", cm.Name, cm.Labels)
		}
		if len(cm.Data) != 1 {
			t.Fatalf("%s holds %d files", cm.Name, len(cm.Data))
		}
		for file, body := range cm.Data {
			checkDashboard(t, file, []byte(body), p.Namespace)
		}
	}
}

// grafanaDashboard is the part of Grafana's model the test reads.
type grafanaDashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func checkDashboard(t *testing.T, file string, body []byte, namespace string) {
	t.Helper()
	var d grafanaDashboard
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Errorf("%s: uid %q, title %q, %d panels", file, d.UID, d.Title, len(d.Panels))
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no query", file, p.Title)
		}
		for _, tg := range p.Targets {
			expr, err := parser.ParseExpr(tg.Expr)
			if err != nil {
				t.Errorf("%s: panel %q: %q: %v", file, p.Title, tg.Expr, err)
				continue
			}
			checkScoped(t, file+": "+p.Title, expr, namespace)
		}
	}
}

// checkScoped: every series selector of expr matches the namespace.
func checkScoped(t *testing.T, where string, expr parser.Expr, namespace string) {
	t.Helper()
	for _, vs := range parser.ExtractSelectors(expr) {
		ok := false
		for _, m := range vs {
			ok = ok || m.Name == "namespace" && m.Value == namespace
		}
		if !ok {
			t.Errorf("%s: selector %v is not scoped to namespace %s", where, vs, namespace)
		}
	}
}
