package operator_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestStackLightKeptAndPruned: with the Prometheus Operator's CRDs
// installed, examples/compute.yaml with StackLight and its logs on reaches
// APPLIED with its alerts, inhibitions, PodMonitors, dashboards, osk
// exporter's service and log shippers in place; turning StackLight off
// prunes every one of them.
func TestStackLightKeptAndPruned(t *testing.T) {
	sandboxtest.Get(t).InstallCRDs(t, filepath.Join("..", "testdata", "prometheus-operator-crds"))
	c, ns, _ := setup(t)
	on := func(d *v1.OpenStackDeployment) {
		d.Spec.Features.StackLight.Enabled, d.Spec.Features.StackLight.Logs.Enabled = true, true
	}
	d := waitState(t, c, deploy(t, c, "compute", ns, on), v1.StateApplied, applyTimeout)
	if n := countMonitoring(t, c, ns); n < 3 {
		t.Fatalf("APPLIED with %d monitoring objects, want the rules, the inhibitions and a PodMonitor per scraped component", n)
	}
	if n := countLogShipper(t, c, ns); n != 5 {
		t.Fatalf("APPLIED with %d of the log shipper's objects, want its ConfigMap and a DaemonSet per node role", n)
	}
	update(t, c, d, func(d *v1.OpenStackDeployment) { d.Spec.Features.StackLight.Enabled = false })
	sandboxtest.Eventually(t, time.Minute, "StackLight's objects pruned", func(ctx context.Context) error {
		if n := countMonitoring(t, c, ns) + countLogShipper(t, c, ns); n > 0 {
			return fmt.Errorf("%d left", n)
		}
		return nil
	})
}

// countMonitoring counts the PrometheusRules, AlertmanagerConfigs,
// PodMonitors and dashboard ConfigMaps of a namespace.
func countMonitoring(t *testing.T, c client.Client, ns string) int {
	t.Helper()
	dashboards := &corev1.ConfigMapList{}
	if err := c.List(t.Context(), dashboards, client.InNamespace(ns), client.HasLabels{monitoring.DashboardLabel}); err != nil {
		t.Fatal(err)
	}
	n := len(dashboards.Items)
	for _, l := range []client.ObjectList{&monitoringv1.PrometheusRuleList{}, &monitoringv1alpha1.AlertmanagerConfigList{}, &monitoringv1.PodMonitorList{}} {
		if err := c.List(t.Context(), l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		n += apimeta.LenList(l)
	}
	return n
}
