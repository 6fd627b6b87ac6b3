package monitoring_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/helm"
	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/monitoring"
)

// TestStackLightBundle: examples/stacklight.yaml is a valid HelmBundle
// whose Prometheus, Alertmanager and Grafana select what osk renders for
// examples/full.yaml: its StackLight labels and its dashboards' label.
func TestStackLightBundle(t *testing.T) {
	b, err := helm.LoadBundle(filepath.Join("..", "..", "examples", "stacklight.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Spec.Releases) != 1 || b.Spec.Releases[0].Values == nil {
		t.Fatalf("want one release with values: %+v", b.Spec.Releases)
	}
	var v struct {
		Prometheus struct {
			PrometheusSpec struct {
				RuleSelector, PodMonitorSelector selector
			} `json:"prometheusSpec"`
		} `json:"prometheus"`
		Alertmanager struct {
			AlertmanagerSpec struct {
				AlertmanagerConfigSelector selector
			} `json:"alertmanagerSpec"`
		} `json:"alertmanager"`
		Grafana struct {
			Sidecar struct {
				Dashboards struct {
					Label, LabelValue string
				} `json:"dashboards"`
			} `json:"sidecar"`
		} `json:"grafana"`
	}
	if err := json.Unmarshal(b.Spec.Releases[0].Values.Raw, &v); err != nil {
		t.Fatal(err)
	}
	d, err := manifest.Load(filepath.Join("..", "..", "examples", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defaulting.Default(&d.Spec)
	labels := d.Spec.Features.StackLight.Labels
	selectors := map[string]map[string]string{
		"ruleSelector": v.Prometheus.PrometheusSpec.RuleSelector.MatchLabels, "podMonitorSelector": v.Prometheus.PrometheusSpec.PodMonitorSelector.MatchLabels,
		"alertmanagerConfigSelector": v.Alertmanager.AlertmanagerSpec.AlertmanagerConfigSelector.MatchLabels,
	}
	for name, sel := range selectors {
		if len(sel) == 0 {
			t.Errorf("%s is empty", name)
		}
		for k, want := range sel {
			if labels[k] != want {
				t.Errorf("%s wants %s=%s; osk labels its objects %v", name, k, want, labels)
			}
		}
	}
	if g := v.Grafana.Sidecar.Dashboards; g.Label != monitoring.DashboardLabel || g.LabelValue != monitoring.DashboardLabelValue {
		t.Errorf("Grafana's sidecar looks for %s=%s, osk's dashboards carry %s=%s", g.Label, g.LabelValue, monitoring.DashboardLabel, monitoring.DashboardLabelValue)
	}
}

// selector is a label selector of the chart's values.
type selector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}
