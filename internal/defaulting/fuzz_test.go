package defaulting_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/defaulting"
)

// FuzzDefault defaults arbitrary input: it may not panic and must be
// idempotent, since the webhook defaults what was defaulted before.
func FuzzDefault(f *testing.F) {
	paths, _ := filepath.Glob("../../examples/*.yaml")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d v1.OpenStackDeployment
		if err := yaml.Unmarshal(data, &d); err != nil {
			return
		}
		defaulting.Default(&d.Spec)
		again := d.DeepCopy()
		defaulting.Default(&again.Spec)
		if !reflect.DeepEqual(&d, again) {
			t.Fatalf("defaulting twice differs from once")
		}
	})
}
