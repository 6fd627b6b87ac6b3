package render_test

import (
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/render"
)

// TestStackLightObjects: with StackLight on, the alerts and inhibitions
// are rendered in the deployment's namespace with the stack's label, in
// the first step; with it off, nothing of it.
func TestStackLightObjects(t *testing.T) {
	d := load(t, "full")
	d.Spec.Features.StackLight.Labels = map[string]string{"prometheus": "cloud"}
	res, err := render.Render(d, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := monitoringObjects(res.Objects)
	kinds := map[string]int{}
	monitors := map[string]*monitoringv1.PodMonitor{}
	for _, o := range got {
		kinds[o.GetObjectKind().GroupVersionKind().Kind]++
		l := o.GetLabels()
		if l["prometheus"] != "cloud" || o.GetNamespace() != d.Namespace {
			t.Errorf("%s: labels %v, namespace %s: want the stack's label and the deployment's namespace", o.GetName(), l, o.GetNamespace())
		}
		if r, ok := o.(*monitoringv1.PrometheusRule); ok && len(r.Spec.Groups) < 8 {
			t.Errorf("PrometheusRule has %d groups", len(r.Spec.Groups))
		}
		if pm, ok := o.(*monitoringv1.PodMonitor); ok {
			monitors[pm.Name] = pm
			checkScraped(t, res.Objects, pm)
		}
	}
	if kinds["PrometheusRule"] != 1 || kinds["AlertmanagerConfig"] != 1 || kinds["ConfigMap"] != len(monitoring.Dashboards(monitoring.Params{})) {
		t.Errorf("rendered %v, want one PrometheusRule, one AlertmanagerConfig and a ConfigMap per dashboard", kinds)
	}
	if monitors["full-stacklight-exporter"] == nil {
		t.Errorf("no PodMonitor for osk exporter among %v", monitors)
	}
	if monitors["full-libvirt-libvirtd"] == nil {
		t.Errorf("no PodMonitor for libvirt's exporters among %v", monitors)
	}
	if monitors["full-mariadb-server"] == nil {
		t.Errorf("no PodMonitor for Galera's exporters among %v", monitors)
	}
	// The notifications bus is scraped for its queues too.
	if n := monitors["full-rabbitmq-notifications"]; n == nil || len(n.Spec.PodMetricsEndpoints) != 2 {
		t.Errorf("the notifications bus's PodMonitor lacks the per-queue endpoint: %+v", n)
	}
	d.Spec.Features.StackLight.Enabled = false
	if res, err = render.Render(d, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := monitoringObjects(res.Objects); len(got) != 0 {
		t.Errorf("StackLight off rendered %d monitoring objects", len(got))
	}
}

// checkScraped: a PodMonitor's pods have its port, and the stack's
// namespace may reach it.
func checkScraped(t *testing.T, objs []client.Object, pm *monitoringv1.PodMonitor) {
	t.Helper()
	port := *pm.Spec.PodMetricsEndpoints[0].Port
	sel := labels.SelectorFromSet(pm.Spec.Selector.MatchLabels)
	var number int32
	for _, o := range objs {
		var tpl *corev1.PodTemplateSpec
		switch o := o.(type) {
		case *appsv1.StatefulSet:
			tpl = &o.Spec.Template
		case *appsv1.Deployment:
			tpl = &o.Spec.Template
		case *appsv1.DaemonSet:
			tpl = &o.Spec.Template
		}
		if tpl != nil && sel.Matches(labels.Set(tpl.Labels)) {
			for _, c := range tpl.Spec.Containers {
				for _, p := range c.Ports {
					if p.Name == port {
						number = p.ContainerPort
					}
				}
			}
		}
	}
	if number == 0 {
		t.Fatalf("PodMonitor %s: no pod it selects has port %q", pm.Name, port)
	}
	for _, o := range objs {
		np, ok := o.(*networkingv1.NetworkPolicy)
		if !ok || !sel.Matches(labels.Set(np.Spec.PodSelector.MatchLabels)) {
			continue
		}
		for _, r := range np.Spec.Ingress {
			for _, f := range r.From {
				if f.NamespaceSelector != nil && f.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "stacklight" &&
					len(r.Ports) == 1 && r.Ports[0].Port.IntVal == number {
					return
				}
			}
		}
	}
	t.Errorf("PodMonitor %s: no NetworkPolicy admits the stacklight namespace on port %d", pm.Name, number)
}

func monitoringObjects(objs []client.Object) []client.Object {
	var out []client.Object
	for _, o := range objs {
		if o.GetObjectKind().GroupVersionKind().Group == monitoringv1.SchemeGroupVersion.Group || o.GetLabels()[monitoring.DashboardLabel] != "" {
			out = append(out, o)
		}
	}
	return out
}
