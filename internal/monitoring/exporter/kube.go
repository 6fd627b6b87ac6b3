package exporter

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// Kube reads what the Kubernetes API knows of the deployment: its
// credential Secrets' metadata (the metadata API: their data never
// reaches the exporter) and the OpenStackDeployment's state.
type Kube struct {
	// Namespace and Deployment name the OpenStackDeployment.
	Namespace, Deployment string
	// Secrets are the credential Secrets whose age is reported.
	Secrets []string

	meta    metadata.Interface
	dynamic dynamic.Interface
}

// NewKube returns a Kube talking to the API server of cfg.
func NewKube(cfg *rest.Config, namespace, deployment string, secrets []string) (*Kube, error) {
	m, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	return &Kube{Namespace: namespace, Deployment: deployment, Secrets: secrets, meta: m, dynamic: d}, nil
}

// deploymentStates are the states osk_deployment_state reports, one
// series each.
var deploymentStates = []v1.DeploymentState{v1.StateApplying, v1.StateApplied, v1.StateFailed}

func (k *Kube) collect(ctx context.Context, s *scrape) error {
	ctx, cancel := context.WithTimeout(ctx, s.e.cfg.Timeout)
	defer cancel()
	return errors.Join(k.credentials(ctx, s), k.state(ctx, s))
}

// credentials sends when each credential Secret was created: osk
// generates a credential once, so that is the credential's age. A Secret
// not generated yet has no series.
func (k *Kube) credentials(ctx context.Context, s *scrape) error {
	secrets := k.meta.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(k.Namespace)
	var errs []error
	for _, name := range k.Secrets {
		m, err := secrets.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("secret %s: %w", name, err))
			continue
		}
		s.gauge(MetricCredentialBorn, "When osk generated the credential Secret", float64(m.CreationTimestamp.Unix()), "secret", name)
	}
	return errors.Join(errs...)
}

// state sends the OpenStackDeployment's state, as osk's operator does.
func (k *Kube) state(ctx context.Context, s *scrape) error {
	o, err := k.dynamic.Resource(v1.GroupVersion.WithResource("openstackdeployments")).Namespace(k.Namespace).Get(ctx, k.Deployment, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("openstackdeployment %s: %w", k.Deployment, err)
	}
	state, _, _ := unstructured.NestedString(o.Object, "status", "state")
	for _, st := range deploymentStates {
		s.gauge(MetricDeploymentState, "1 for the state the deployment is in (APPLYING, APPLIED, FAILED), 0 for the others",
			bool01(string(st) == state), "deployment", k.Deployment, "state", string(st))
	}
	return nil
}
