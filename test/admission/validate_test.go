package admission_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/cli"
)

// TestValidateAgainst runs `osk validate --against CURRENT -f NEW`: the
// same transition rules as the webhook, offline.
func TestValidateAgainst(t *testing.T) {
	current := load(t, "openstack")
	current.Spec.OpenStackVersion = "dalmatian"
	current.Status.DeployedVersion = "dalmatian"
	tests := []struct {
		name   string
		change func(d *v1.OpenStackDeployment)
		// want are substrings of the output; none means valid.
		want []string
	}{
		{"no change", func(*v1.OpenStackDeployment) {}, nil},
		{"next release", version("epoxy"), nil},
		{"downgrade", version("caracal"), []string{"spec.openstackVersion", "rule: no downgrade", "1 problem(s)"}},
		{"skip", version("flamingo"), []string{"spec.openstackVersion", "skips epoxy", "rule: one release at a time"}},
		{"upgrade and another change", func(d *v1.OpenStackDeployment) { d.Spec.OpenStackVersion, d.Spec.Region = "epoxy", "Two" },
			[]string{"spec.region", "rule: an upgrade changes nothing else"}},
		{"invalid", func(d *v1.OpenStackDeployment) { d.Spec.Features.Services = []string{"bogus"} }, []string{"spec.features.services[0]"}},
	}
	dir := t.TempDir()
	currentFile := write(t, dir, "current.yaml", current)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := current.DeepCopy()
			d.Status = v1.OpenStackDeploymentStatus{}
			tc.change(d)
			out, err := run("validate", "--against", currentFile, "-f", write(t, dir, "new.yaml", d))
			if (err == nil) != (len(tc.want) == 0) {
				t.Fatalf("error %v, output:\n%s", err, out)
			}
			for _, w := range append(tc.want, "new.yaml") {
				if !strings.Contains(out, w) {
					t.Errorf("output %q does not mention %q", out, w)
				}
			}
		})
	}
}

func write(t *testing.T, dir, name string, d *v1.OpenStackDeployment) string {
	t.Helper()
	d = d.DeepCopy()
	d.APIVersion, d.Kind = v1.GroupVersion.String(), "OpenStackDeployment"
	data, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs osk with args and returns its standard output and error.
func run(args ...string) (string, error) {
	cmd := cli.NewRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}
