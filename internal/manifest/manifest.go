// Package manifest reads OpenStackDeployment manifests from files,
// strictly: an unknown or misspelt field is an error naming it.
package manifest

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// DefaultNamespace is used when a manifest names none.
const DefaultNamespace = "openstack"

// Load reads one OpenStackDeployment from a YAML or JSON file.
func Load(path string) (*v1.OpenStackDeployment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse decodes one OpenStackDeployment.
func Parse(data []byte) (*v1.OpenStackDeployment, error) {
	var d v1.OpenStackDeployment
	if err := yaml.UnmarshalStrict(data, &d); err != nil {
		return nil, fmt.Errorf("decoding OpenStackDeployment: %w", err)
	}
	want := v1.GroupVersion.String()
	if d.APIVersion != want || d.Kind != "OpenStackDeployment" {
		return nil, fmt.Errorf("apiVersion/kind is %q/%q, want %q/OpenStackDeployment", d.APIVersion, d.Kind, want)
	}
	if d.Name == "" {
		return nil, fmt.Errorf("metadata.name: Required value")
	}
	if d.Namespace == "" {
		d.Namespace = DefaultNamespace
	}
	return &d, nil
}
