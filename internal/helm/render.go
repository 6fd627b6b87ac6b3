package helm

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// LoadBundle reads a HelmBundle manifest; unknown fields are errors. A
// bundle without a namespace is placed in "default".
func LoadBundle(path string) (*v1.HelmBundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	b := &v1.HelmBundle{}
	if err := yaml.UnmarshalStrict(data, b); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	if b.Kind != "HelmBundle" {
		return nil, fmt.Errorf("%s: kind is %q, want HelmBundle", path, b.Kind)
	}
	if b.Namespace == "" {
		b.Namespace = "default"
	}
	return b, nil
}

// OfflineNotes lists what an offline render leaves out: values from
// Secrets and ConfigMaps and repository credentials.
func OfflineNotes(b *v1.HelmBundle) []string {
	var notes []string
	for _, r := range b.Spec.Repositories {
		if r.CredentialsSecret != "" || r.CASecret != "" {
			notes = append(notes, fmt.Sprintf("repository %s: its Secrets are not read offline; it is reached without them", r.Name))
		}
	}
	for _, r := range b.Spec.Releases {
		for _, src := range r.ValuesFrom {
			notes = append(notes, fmt.Sprintf("release %s: values from %s %s are not read offline", r.Name, src.Kind, src.Name))
		}
	}
	return notes
}

// Render writes what a bundle would install, release by release in
// install order: each chart downloaded from its repository and its
// templates rendered offline (no cluster), with the inline values.
func Render(ctx context.Context, b *v1.HelmBundle, charts *Charts, w io.Writer) error {
	p, err := NewPlan(b.Spec)
	if err != nil {
		return err
	}
	want, err := (&Resolver{Charts: charts}).Resolve(ctx, p, b.Namespace)
	if err != nil {
		return err
	}
	for _, wave := range p.Waves {
		for _, name := range wave {
			if err := renderRelease(ctx, want[name], w); err != nil {
				return err
			}
		}
	}
	return nil
}

func renderRelease(ctx context.Context, d Desired, w io.Writer) error {
	cfg := &action.Configuration{
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Releases:     storage.Init(driver.NewMemory()),
		Capabilities: chartutil.DefaultCapabilities,
		Log:          func(string, ...any) {},
	}
	in := action.NewInstall(cfg)
	in.DryRun, in.ClientOnly, in.Replace, in.IncludeCRDs = true, true, true, true
	in.ReleaseName, in.Namespace = d.Name, d.Namespace
	rel, err := in.RunWithContext(ctx, d.Chart, d.Values)
	if err != nil {
		return fmt.Errorf("rendering release %s: %w", d.Name, err)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "# Release %s in namespace %s: chart %s %s\n", d.Name, d.Namespace, d.Chart.Metadata.Name, d.Chart.Metadata.Version)
	out.WriteString(strings.TrimSpace(rel.Manifest) + "\n")
	for _, h := range rel.Hooks {
		fmt.Fprintf(&out, "---\n# Source: %s (hook: %v)\n%s\n", h.Path, h.Events, strings.TrimSpace(h.Manifest))
	}
	_, err = io.WriteString(w, out.String())
	return err
}
