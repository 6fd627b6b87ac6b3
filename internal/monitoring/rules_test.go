package monitoring_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/monitoring"
)

// testParams are a deployment "osk" in "openstack" with three Galera
// members, backups and StackLight's default thresholds.
func testParams() monitoring.Params {
	var spec v1.OpenStackDeploymentSpec
	spec.Features.StackLight.Enabled = true
	defaulting.Default(&spec)
	return monitoring.Params{Namespace: "openstack", Deployment: "osk", GaleraMembers: 3, Backup: true, StackLight: spec.Features.StackLight}
}

func alertByName(t *testing.T) map[string]monitoring.Alert {
	t.Helper()
	out := map[string]monitoring.Alert{}
	for _, g := range monitoring.Groups(testParams()) {
		for _, a := range g.Alerts {
			if _, dup := out[a.Name]; dup {
				t.Fatalf("alert %s is rendered twice", a.Name)
			}
			out[a.Name] = a
		}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRuleFileParses: the rendered rule file is a valid Prometheus rule
// file (rulefmt checks names, durations, templates and expressions), and
// every expression parses on its own and selects series of the
// deployment's namespace.
func TestRuleFileParses(t *testing.T) {
	b, err := monitoring.RuleFile(monitoring.RuleGroups(testParams()))
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(b, false, model.UTF8Validation)
	if len(errs) > 0 {
		t.Fatalf("rule file does not parse: %v", errs)
	}
	n := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			n++
			checkExpr(t, r.Alert, r.Expr)
			if r.Annotations[monitoring.AnnotationRunbook] == "" || r.Labels["severity"] == "" {
				t.Errorf("%s: no runbook or severity", r.Alert)
			}
		}
	}
	if n != len(alertByName(t)) {
		t.Errorf("rule file has %d rules, want %d", n, len(alertByName(t)))
	}
}

func checkExpr(t *testing.T, name, expr string) {
	t.Helper()
	e, err := parser.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", name, expr, err)
		return
	}
	for _, sel := range parser.ExtractSelectors(e) {
		scoped := false
		for _, m := range sel {
			scoped = scoped || (m.Name == "namespace" && m.Value == "openstack")
		}
		if !scoped {
			t.Errorf("%s: selector %v is not scoped to the deployment's namespace", name, sel)
		}
	}
}

// TestThresholdsReachTheRules: a tuned threshold changes its rule.
func TestThresholdsReachTheRules(t *testing.T) {
	p := testParams()
	p.StackLight.Thresholds.NotificationsBacklog = 77
	p.StackLight.Thresholds.BackupMaxAgeHours = 5
	p.GaleraMembers = 5
	b, err := monitoring.RuleFile(monitoring.RuleGroups(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"> 77)", "> 18000", "< 5"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rule file lacks %q", want)
		}
	}
	p.Backup = false
	b, _ = monitoring.RuleFile(monitoring.RuleGroups(p))
	if strings.Contains(string(b), "GaleraBackup") {
		t.Error("backup alerts rendered without backups")
	}
}

// TestInhibitionsNameRenderedAlerts: every inhibition's source and target
// is an alert osk renders.
func TestInhibitionsNameRenderedAlerts(t *testing.T) {
	alerts := alertByName(t)
	for _, in := range monitoring.Inhibitions() {
		for _, name := range append([]string{in.Source}, in.Targets...) {
			if _, ok := alerts[name]; !ok {
				t.Errorf("inhibition of %s names %s, which osk does not render", in.Source, name)
			}
		}
	}
}
