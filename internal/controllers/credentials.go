package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/credentials"
	"github.com/oskproject/osk/internal/render"
)

// credentialsLabel marks the credential Secrets of a deployment, by its
// name. They carry no owner reference and no owner label: like the
// database they unlock, they outlive the deployment, so that a deployment
// created again finds its data usable.
const credentialsLabel = "osk.dev/credentials-of"

// writeCredentials creates a credential Secret, or adds keys to it. Keys
// it holds already are never written: the update carries the Secret's
// resourceVersion, so a concurrent writer makes it fail and the next pass
// starts over from what is stored.
func (p *pass) writeCredentials(ctx context.Context, c credentials.Change) error {
	ctx = apply.Unlogged(ctx)
	s := &corev1.Secret{}
	err := p.r.APIReader.Get(ctx, client.ObjectKey{Namespace: p.d.Namespace, Name: c.Secret}, s)
	switch {
	case apierrors.IsNotFound(err):
		s = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: c.Secret, Namespace: p.d.Namespace, Labels: map[string]string{
				credentialsLabel: p.d.Name, render.LabelManagedBy: render.ManagedBy, render.LabelInstance: p.d.Name,
			}},
			Type: corev1.SecretTypeOpaque,
			Data: c.Data,
		}
		countWrite("create", "Secret")
		if err := p.r.Client.Create(ctx, s); err != nil {
			return fmt.Errorf("creating credentials %s: %w", c.Secret, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading credentials %s: %w", c.Secret, err)
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range c.Data {
		if _, ok := s.Data[k]; ok && !slices.Contains(c.Renewed, k) {
			// This pass rendered with a value it could not see: start over.
			return fmt.Errorf("credentials %s changed while osk read them; trying again", c.Secret)
		}
		s.Data[k] = v
	}
	countWrite("update", "Secret")
	if err := p.r.Client.Update(ctx, s); err != nil {
		return fmt.Errorf("adding keys to credentials %s: %w", c.Secret, err)
	}
	return nil
}
