package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/typed/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"

	"github.com/oskproject/osk/internal/poll"
)

// CRDDir is where the osk repository keeps its generated
// CustomResourceDefinitions, relative to its root.
const CRDDir = "config/crd/bases"

// InstallCRDs creates, or updates, the CustomResourceDefinitions of every
// YAML file in dir, and waits until they are established. A directory
// without any is an error: it is a missing "make generate", not a success.
func InstallCRDs(ctx context.Context, config *rest.Config, dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	crds, err := ReadCRDs(dir)
	if err != nil {
		return nil, err
	}
	client, err := apiextensionsclient.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("installing CRDs: %w", err)
	}
	for _, crd := range crds {
		if err := apply(ctx, client.CustomResourceDefinitions(), crd); err != nil {
			return nil, fmt.Errorf("installing CRD %s: %w", crd.Name, err)
		}
	}
	for _, crd := range crds {
		err := poll.Until(ctx, 100*time.Millisecond, "CRD "+crd.Name+" to be established", func(ctx context.Context) error {
			got, err := client.CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
			return fmt.Errorf("conditions: %v", got.Status.Conditions)
		})
		if err != nil {
			return nil, err
		}
	}
	return crds, nil
}

// apply creates crd, or replaces the existing one.
func apply(ctx context.Context, client apiextensionsclient.CustomResourceDefinitionInterface, crd *apiextensionsv1.CustomResourceDefinition) error {
	_, err := client.Create(ctx, crd, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	existing, err := client.Get(ctx, crd.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	crd = crd.DeepCopy()
	crd.ResourceVersion = existing.ResourceVersion
	_, err = client.Update(ctx, crd, metav1.UpdateOptions{})
	return err
}

// ReadCRDs decodes the CustomResourceDefinitions of every YAML file in dir.
func ReadCRDs(dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading CRDs: %w", err)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading CRDs: %w", err)
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			err := dec.Decode(crd)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading CRDs from %s: %w", f, err)
			}
			if crd.Kind != "CustomResourceDefinition" {
				continue // an empty document, or another kind of object
			}
			crds = append(crds, crd)
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no CustomResourceDefinition in %s/*.yaml (run make generate)", dir)
	}
	return crds, nil
}
