package validation_test

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/defaulting"
	"github.com/oskproject/osk/internal/render"
	"github.com/oskproject/osk/internal/validation"
)

// examples returns the example manifests, the fuzzers' seeds.
func examples(f *testing.F) [][]byte {
	paths, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no examples: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// decode reads arbitrary bytes as a deployment, leniently: the fuzzers
// look for panics, not for decoding errors.
func decode(data []byte) (*v1.OpenStackDeployment, bool) {
	var d v1.OpenStackDeployment
	if err := yaml.Unmarshal(data, &d); err != nil {
		return nil, false
	}
	return &d, true
}

// FuzzValidate defaults, validates and renders arbitrary input: none of
// them may panic.
func FuzzValidate(f *testing.F) {
	for _, e := range examples(f) {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, ok := decode(data)
		if !ok {
			return
		}
		defaulting.Default(&d.Spec)
		if errs := validation.Validate(d); len(errs) > 0 {
			return
		}
		if _, err := render.Render(d, render.Options{}); err != nil {
			t.Fatalf("a valid deployment does not render: %v", err)
		}
	})
}

// FuzzValidateUpdate runs the transition rules over two arbitrary
// deployments: they may not panic.
func FuzzValidateUpdate(f *testing.F) {
	ex := examples(f)
	for _, a := range ex {
		for _, b := range ex {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, oldData, newData []byte) {
		old, ok1 := decode(oldData)
		d, ok2 := decode(newData)
		if !ok1 || !ok2 {
			return
		}
		defaulting.Default(&old.Spec)
		defaulting.Default(&d.Spec)
		_ = validation.ValidateUpdate(old, d)
	})
}
