package render_test

import (
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	if len(got) != 2 {
		t.Fatalf("rendered %d monitoring objects, want the PrometheusRule and the AlertmanagerConfig", len(got))
	}
	for _, o := range got {
		l := o.GetLabels()
		if l["prometheus"] != "cloud" || l[render.LabelService] != "database" || o.GetNamespace() != d.Namespace {
			t.Errorf("%s: labels %v, namespace %s: want the stack's label, the database step, the deployment's namespace", o.GetName(), l, o.GetNamespace())
		}
		if r, ok := o.(*monitoringv1.PrometheusRule); ok && len(r.Spec.Groups) < 8 {
			t.Errorf("PrometheusRule has %d groups", len(r.Spec.Groups))
		}
	}
	d.Spec.Features.StackLight.Enabled = false
	if res, err = render.Render(d, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := monitoringObjects(res.Objects); len(got) != 0 {
		t.Errorf("StackLight off rendered %d monitoring objects", len(got))
	}
}

func monitoringObjects(objs []client.Object) []client.Object {
	var out []client.Object
	for _, o := range objs {
		if o.GetObjectKind().GroupVersionKind().Group == monitoringv1.SchemeGroupVersion.Group {
			out = append(out, o)
		}
	}
	return out
}
