package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func TestValidateStagesWantsNamedStages(t *testing.T) {
	good := FailJobPodsStage("fail-migrations", map[string]string{"app": "db-sync"}, "registry.invalid/broken:1")
	if err := validateStages([][]byte{good}); err != nil {
		t.Errorf("FailJobPodsStage: %v", err)
	}
	for name, bad := range map[string]string{
		"not YAML":  "{",
		"no name":   "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\n",
		"not Stage": "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\nmetadata: {name: x}\n",
	} {
		if err := validateStages([][]byte{good, []byte(bad)}); err == nil || !strings.Contains(err.Error(), "stage 1") {
			t.Errorf("%s: got %v, want an error about stage 1", name, err)
		}
	}
}

// TestDefaultPodStagesHaveNoWeight checks what FailJobPodsStage relies on
// to win over pod-complete: kwok draws among the matching stages with a
// positive weight when there are any, and the default pod stages have
// none.
func TestDefaultPodStagesHaveNoWeight(t *testing.T) {
	tools, err := LoadToolsFrom(".")
	if err != nil {
		t.Fatal(err)
	}
	bins, err := tools.Binaries()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(bins.Dir, kwokStagesFile))
	if err != nil {
		t.Fatal(err)
	}
	docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	pods := 0
	for {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var stage struct {
			Metadata struct{ Name string }
			Spec     struct {
				ResourceRef struct{ Kind string }
				Weight      int
				WeightFrom  any
			}
		}
		if err := yaml.Unmarshal(doc, &stage); err != nil {
			t.Fatal(err)
		}
		if stage.Spec.ResourceRef.Kind != "Pod" {
			continue
		}
		pods++
		if stage.Spec.Weight != 0 || stage.Spec.WeightFrom != nil {
			t.Errorf("default pod stage %s has a weight: FailJobPodsStage may lose to it", stage.Metadata.Name)
		}
	}
	if pods == 0 {
		t.Errorf("%s holds no pod stage", kwokStagesFile)
	}
}
