package monitoring_test

import (
	"testing"
	"time"

	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/testing/monitoringtest"
)

// TestInhibitionsInAlertmanager loads osk's inhibitions into Debian's
// Alertmanager and fires what a dead Galera member raises: only
// GaleraMemberNotReady stays active; another member's alert is not muted.
func TestInhibitionsInAlertmanager(t *testing.T) {
	am := monitoringtest.StartAlertmanager(t, map[string]any{
		"route":         map[string]any{"receiver": "none"},
		"receivers":     []map[string]any{{"name": "none"}},
		"inhibit_rules": monitoring.AlertmanagerInhibitRules(),
	})
	now := time.Now()
	alert := func(name, pod string) monitoringtest.Alert {
		l := map[string]string{"alertname": name, "namespace": "openstack"}
		if pod != "" {
			l["pod"] = pod
		}
		return monitoringtest.Alert{Labels: l, StartsAt: now}
	}
	am.Post(t, alert("GaleraMemberNotReady", "mariadb-server-1"), alert("GaleraClusterSizeBelowMembers", ""),
		alert("GaleraMemberOutOfSync", "mariadb-server-1"), alert("GaleraMemberOutOfSync", "mariadb-server-2"))
	want := map[string]string{
		"GaleraMemberNotReady/mariadb-server-1": "active", "GaleraClusterSizeBelowMembers/": "suppressed",
		"GaleraMemberOutOfSync/mariadb-server-1": "suppressed", "GaleraMemberOutOfSync/mariadb-server-2": "active",
	}
	got := map[string]string{}
	for _, a := range am.Alerts(t) {
		got[a.Labels["alertname"]+"/"+a.Labels["pod"]] = a.Status.State
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], w, got)
		}
	}
}
