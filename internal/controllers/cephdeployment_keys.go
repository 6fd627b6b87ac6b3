package controllers

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/ceph"
	"github.com/oskproject/osk/internal/cephkeys"
)

// keysPhase reads what Rook published for the deployment's objects and,
// once everything is ready, writes the Ceph Secret into the OpenStack
// namespace; it writes only when the Secret's data changed (a rotated
// key, a moved monitor).
func (r *CephDeploymentReconciler) keysPhase(ctx context.Context, s *cephScope) (ctrl.Result, error) {
	p, err := r.published(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	data, problems := ceph.Assemble(p)
	if len(problems) > 0 {
		s.missing = problems
		return ctrl.Result{}, nil
	}
	ns, name := ceph.OpenStackNamespace(&s.d.Spec), ceph.KeysSecretName(&s.d.Spec)
	live, err := r.secret(ctx, ns, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if live != nil && live.Labels[apply.LabelOwner] != string(s.d.UID) {
		s.missing = []string{fmt.Sprintf("Secret %s/%s exists and was not written by this CephDeployment (an external Ceph cluster's?): delete it or name another in spec.keysSecret", ns, name)}
		return ctrl.Result{}, nil
	}
	if live == nil || !maps.EqualFunc(live.Data, data, bytes.Equal) || live.Labels[cephkeys.LabelWatched] != "true" {
		want := ceph.KeysSecret(ns, name, data)
		want.Labels[apply.LabelOwner] = string(s.d.UID)
		want.Labels[ceph.LabelDeployment] = s.d.Name
		ctrl.LoggerFrom(ctx).Info("Writing the Ceph Secret", "secret", ns+"/"+name)
		//nolint:staticcheck // a typed Secret is what is applied.
		if err := r.Client.Patch(ctx, want, client.Apply, client.FieldOwner(apply.FieldManager), client.ForceOwnership); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing Secret %s/%s: %w", ns, name, err)
		}
	}
	s.d.Status.KeysSecret = ns + "/" + name
	return ctrl.Result{}, nil
}

// published gathers what Rook published: the objects' status (read by
// observePhase), the monitors' ConfigMap and OpenStack's clients'
// Secrets. The users of one's own are not OpenStack's: their keys stay in
// Rook's Secrets.
func (r *CephDeploymentReconciler) published(ctx context.Context, s *cephScope) (ceph.Published, error) {
	p := ceph.Published{Cluster: first(s.live[ceph.KindCluster]), Pools: s.live[ceph.KindBlockPool], ClientSecrets: map[string]*corev1.Secret{}}
	if s.d.Spec.ObjectStore != nil {
		p.ObjectStore = find(s.live[ceph.KindObjectStore], ceph.ObjectStoreName(s.d.Spec.ObjectStore))
		if p.ObjectStore == nil {
			p.ObjectStore = &unstructured.Unstructured{}
			p.ObjectStore.SetKind(ceph.KindObjectStore)
			p.ObjectStore.SetName(ceph.ObjectStoreName(s.d.Spec.ObjectStore))
		}
	}
	mons := &corev1.ConfigMap{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: s.d.Namespace, Name: ceph.MonEndpointsConfigMap}, mons)
	switch {
	case err == nil:
		p.MonEndpoints = mons
	case !apierrors.IsNotFound(err):
		return p, fmt.Errorf("reading ConfigMap %s: %w", ceph.MonEndpointsConfigMap, err)
	}
	for _, c := range s.live[ceph.KindClient] {
		if !ceph.IsOpenStackClient(c.GetName()) {
			continue
		}
		p.Clients = append(p.Clients, c)
		name, _, _ := unstructured.NestedString(c.Object, "status", "info", "secretName")
		if name == "" {
			continue
		}
		sec, err := r.secret(ctx, s.d.Namespace, name)
		if err != nil {
			return p, err
		}
		if sec != nil {
			p.ClientSecrets[name] = sec
		}
	}
	return p, nil
}

// secret reads a Secret; nil when it does not exist.
func (r *CephDeploymentReconciler) secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, sec)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", ns, name, err)
	}
	return sec, nil
}

// deleteKeys deletes the Ceph Secret when this deployment wrote it.
func (r *CephDeploymentReconciler) deleteKeys(ctx context.Context, s *cephScope) error {
	ns, name := ceph.OpenStackNamespace(&s.d.Spec), ceph.KeysSecretName(&s.d.Spec)
	live, err := r.secret(ctx, ns, name)
	if err != nil || live == nil || live.Labels[apply.LabelOwner] != string(s.d.UID) {
		return err
	}
	if err := r.Client.Delete(ctx, live); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting Secret %s/%s: %w", ns, name, err)
	}
	s.d.Status.KeysSecret = ""
	return nil
}
