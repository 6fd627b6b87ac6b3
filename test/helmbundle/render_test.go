package helmbundle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cli"
	"github.com/oskproject/osk/internal/helm"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestRenderCommand: osk helmbundle render prints every release's
// objects, dependencies first, rendered from the repository with the
// inline values, and notes what it cannot read offline.
func TestRenderCommand(t *testing.T) {
	f := &fixture{t: t, ns: "apps"}
	b := f.newBundle(httpRepo(t),
		rel("web", "app", "0.2.0", map[string]any{"message": "rendered"}, "cache"),
		rel("cache", "settings", "", nil))
	b.Spec.Releases[0].ValuesFrom = []v1.ValuesSource{{Kind: "Secret", Name: "web-values"}}
	b.APIVersion, b.Kind = v1.GroupVersion.String(), "HelmBundle"
	data, err := yaml.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "bundle.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := cli.NewRootCommand()
	cmd.SetArgs([]string{"helmbundle", "render", "-f", file})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("render: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	cache := strings.Index(out, "# Release cache in namespace apps: chart settings 1.0.0")
	web := strings.Index(out, "# Release web in namespace apps: chart app 0.2.0")
	if cache < 0 || web < cache {
		t.Errorf("want cache, then web:\n%s", out)
	}
	for _, want := range []string{`message: "rendered"`, "kind: Deployment", "kind: Service", `chartVersion: "0.2.0"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "release web: values from Secret web-values are not read offline") {
		t.Errorf("stderr = %q, want a note on the values left out", stderr.String())
	}
}

// TestExampleIsValid: the example bundle parses strictly, plans, and the
// API server accepts it (a server-side dry run).
func TestExampleIsValid(t *testing.T) {
	b, err := helm.LoadBundle(filepath.Join("..", "..", "examples", "helmbundle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := helm.NewPlan(b.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Waves) != 2 {
		t.Errorf("waves = %v, want cert-manager and memcached, then ingress", p.Waves)
	}
	env := sandboxtest.Get(t)
	env.InstallCRDs(t)
	b.Namespace = env.Namespace(t)
	if err := env.Client().Create(t.Context(), b, client.DryRunAll); err != nil {
		t.Errorf("the API server refuses the example: %v", err)
	}
}
