package sandbox_test

import (
	"path/filepath"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/manifest"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestRenderedObjectsAcceptedByAPIServer sends every object osk renders for
// the three examples, and the examples themselves, to the sandbox's API
// server as server-side dry-run applies: the API server's own validation
// and defaulting, with osk's CRDs and the Prometheus Operator's
// (StackLight's objects, examples/full.yaml) installed, is the judge.
func TestRenderedObjectsAcceptedByAPIServer(t *testing.T) {
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	env.InstallCRDs(t, filepath.Join("..", "testdata", "prometheus-operator-crds"))
	c := env.Client()
	for _, name := range []string{"minimal", "compute", "full"} {
		t.Run(name, func(t *testing.T) {
			d, err := manifest.Load(filepath.Join("..", "..", "examples", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			d.Namespace = env.Namespace(t)
			res, err := render.Render(d, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			objs := append([]client.Object{d}, res.Objects...)
			for _, o := range objs {
				err := c.Patch(t.Context(), o, client.Apply, client.DryRunAll, client.FieldOwner("osk"), client.ForceOwnership)
				if err != nil {
					t.Errorf("%s %s/%s refused: %v", o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), err)
				}
			}
			t.Logf("%d objects accepted", len(objs))
		})
	}
}
