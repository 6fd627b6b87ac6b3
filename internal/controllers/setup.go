package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// SetupWithManager registers the reconciler: it runs on changes to a
// deployment's spec, labels, annotations or deletion, and on any change
// to an object a deployment owns, so that drift is repaired at once.
func (r *OpenStackDeploymentReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.OpenStackDeployment{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{},
			predicate.AnnotationChangedPredicate{}, deleting{}))).
		// A process may run the operator more than once (tests restart
		// it), and controller names are unique per process otherwise.
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, SkipNameValidation: ptr(true)})
	for _, o := range []client.Object{
		&appsv1.Deployment{}, &appsv1.StatefulSet{}, &appsv1.DaemonSet{}, &batchv1.Job{}, &batchv1.CronJob{},
		&corev1.Service{}, &corev1.Secret{}, &corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{},
		&networkingv1.Ingress{}, &policyv1.PodDisruptionBudget{},
	} {
		b = b.Owns(o)
	}
	return b.Complete(r)
}

// deleting passes updates that mark a deployment for deletion.
type deleting struct{ predicate.Funcs }

// Update passes an update that set the deletion timestamp.
func (deleting) Update(e event.UpdateEvent) bool {
	return e.ObjectNew.GetDeletionTimestamp() != nil && e.ObjectOld.GetDeletionTimestamp() == nil
}

func ptr[T any](v T) *T { return &v }
