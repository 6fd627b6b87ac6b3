package controllers

import (
	"context"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/cephkeys"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/render"
)

// SetupWithManager registers the reconciler: it runs on changes to a
// deployment's spec, labels, annotations or deletion, on any change to an
// object a deployment owns, so that drift is repaired at once, and on a
// change to the problem of one of its pods.
func (r *OpenStackDeploymentReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.OpenStackDeployment{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{},
			predicate.AnnotationChangedPredicate{}, deleting{}))).
		// A process may run the operator more than once (tests restart
		// it), and controller names are unique per process otherwise.
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, SkipNameValidation: ptr(true)})
	// What the deployment owns starts its passes through coalesced: the
	// events of one burst start one pass. Its own spec starts one at once.
	spaced := &r.spaced
	owner := newCoalesced(handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &v1.OpenStackDeployment{}, handler.OnlyControllerOwner()), spaced)
	// The node agents' namespace, when it is not the deployment's, holds
	// objects owned by the label alone.
	labelOnly := newCoalesced(handler.EnqueueRequestsFromMapFunc(r.deploymentOfLabelOnly), spaced)
	// The echoes of osk's own writes start no pass: the pass that wrote
	// planned on what it wrote.
	mine := notEcho(&r.written)
	for _, o := range []client.Object{&appsv1.Deployment{}, &appsv1.StatefulSet{}, &appsv1.DaemonSet{}, &batchv1.Job{}} {
		b = b.Watches(o, owner, builder.WithPredicates(mine, rolloutChanged()))
		b = b.Watches(o, labelOnly, builder.WithPredicates(mine, rolloutChanged()))
	}
	for _, o := range []client.Object{
		&batchv1.CronJob{}, &corev1.Service{}, &corev1.Secret{}, &corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{},
		&networkingv1.Ingress{}, &networkingv1.NetworkPolicy{}, &policyv1.PodDisruptionBudget{},
	} {
		b = b.Watches(o, owner, builder.WithPredicates(mine, specChanged()))
		b = b.Watches(o, labelOnly, builder.WithPredicates(mine, specChanged()))
	}
	// Cluster-scoped objects cannot name a namespaced owner; their owner
	// label leads back to the deployment.
	for _, o := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}, &networkingv1.IngressClass{}} {
		b = b.Watches(o, newCoalesced(handler.EnqueueRequestsFromMapFunc(r.deploymentOfOwnerLabel), spaced), builder.WithPredicates(mine))
	}
	// The Galera members' coordination record: its changes are the
	// database's condition.
	b = b.Watches(&corev1.ConfigMap{}, newCoalesced(handler.EnqueueRequestsFromMapFunc(r.deploymentsInNamespace), spaced),
		builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == catalog.GaleraRecord })))
	// A pod's trouble (it fits no node, its image cannot be pulled, it
	// crashes) often changes nothing in its workload's status: a pass runs
	// when what the deployment's status would say of a pod changes.
	b = b.Watches(&corev1.Pod{}, newCoalesced(handler.EnqueueRequestsFromMapFunc(deploymentOfPod), spaced),
		builder.WithPredicates(predicate.Or[client.Object](troubleChanged(), tempestReported())))
	b = b.Watches(&corev1.Pod{}, newCoalesced(handler.EnqueueRequestsFromMapFunc(r.deploymentsOfAgentPod), spaced),
		builder.WithPredicates(troubleChanged()))
	ceph, cephKeys, err := cephKeysSource(mgr, r.deploymentsInNamespace)
	if err != nil {
		return err
	}
	r.cephKeys = cephKeys
	return b.WatchesRawSource(ceph).Complete(r)
}

// cephKeysSource watches the Ceph Secrets (labelled
// cephkeys.LabelWatched=true), which are not osk's and so not in the
// manager's cache, through a cache of their own: a change runs a pass
// over the deployments of the Secret's namespace. The cache is returned
// too, for the passes to read the Secrets from.
func cephKeysSource(mgr ctrl.Manager, toDeployments handler.MapFunc) (source.Source, client.Reader, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{cephkeys.LabelWatched: "true"})},
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("creating the cache of Ceph Secrets: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return nil, nil, fmt.Errorf("adding the cache of Ceph Secrets: %w", err)
	}
	return source.Kind[client.Object](c, &corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(toDeployments)), c, nil
}

// deploymentOfPod names the deployment a pod belongs to: every pod
// template osk renders carries the deployment's name as its instance.
func deploymentOfPod(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[render.LabelInstance]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

// deploymentOfOwnerLabel names the deployment whose UID an object's
// owner label holds.
func (r *OpenStackDeploymentReconciler) deploymentOfOwnerLabel(ctx context.Context, o client.Object) []reconcile.Request {
	uid := o.GetLabels()[apply.LabelOwner]
	if uid == "" {
		return nil
	}
	list := &v1.OpenStackDeploymentList{}
	if err := r.Client.List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "listing deployments to find an owner", "object", o.GetName())
		return nil
	}
	for _, d := range list.Items {
		if string(d.UID) == uid {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: d.Namespace, Name: d.Name}}}
		}
	}
	return nil
}

// deploymentsInNamespace names every deployment in an object's namespace.
func (r *OpenStackDeploymentReconciler) deploymentsInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	list := &v1.OpenStackDeploymentList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.GetNamespace())); err != nil {
		log.FromContext(ctx).Error(err, "listing deployments", "namespace", o.GetNamespace())
		return nil
	}
	var out []reconcile.Request
	for _, d := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: d.Namespace, Name: d.Name}})
	}
	return out
}

// notEcho drops the watch events of osk's own writes (apply.Written),
// and of the deletions of Jobs osk replaced within a pass.
func notEcho(w *apply.Written) predicate.Funcs {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return !w.Echo(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool { return !w.Echo(e.ObjectNew) },
		DeleteFunc: func(e event.DeleteEvent) bool { return !w.Deleted(e.Object) },
	}
}

// troubleChanged passes the pod events that change what PodTrouble says
// of the pod: a pod that appears or goes away with a problem, or whose
// problem appears, changes or clears.
// rolloutChanged passes the events of a workload or Job that can change
// what a pass decides: its creation and deletion, a new generation (its
// spec changed, by osk or by hand), changed labels or annotations, and a
// rollout that became ready or failed or stopped being so. Status churn
// within a rollout (one more pod of ten ready) starts no pass: a
// DaemonSet's rollout over a thousand nodes would otherwise cost a pass per
// node. While a deployment progresses, its passes requeue themselves to
// keep the counts of its status current (progressRefresh).
func rolloutChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld, e.ObjectNew
			return o.GetGeneration() != n.GetGeneration() ||
				!maps.Equal(o.GetLabels(), n.GetLabels()) || !maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
				lifecycle.Settled(o) != lifecycle.Settled(n)
		},
	}
}

// specChanged passes the updates of an object osk owns that may change
// what osk wants of it: of a kind with a generation (a PodDisruptionBudget,
// a CronJob, an Ingress), a new generation or changed labels or
// annotations; of a kind without (a Secret, a Service), any update. The
// status the cluster keeps of them (a budget's healthy pods, a CronJob's
// last run) starts no pass: osk decides nothing from it.
func specChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld, e.ObjectNew
			return n.GetGeneration() == 0 || o.GetGeneration() != n.GetGeneration() ||
				!maps.Equal(o.GetLabels(), n.GetLabels()) || !maps.Equal(o.GetAnnotations(), n.GetAnnotations())
		},
	}
}

func troubleChanged() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return troubleOf(e.Object) != "" },
		UpdateFunc:  func(e event.UpdateEvent) bool { return troubleOf(e.ObjectOld) != troubleOf(e.ObjectNew) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return troubleOf(e.Object) != "" },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func troubleOf(o client.Object) string {
	if p, ok := o.(*corev1.Pod); ok {
		return lifecycle.PodTrouble([]corev1.Pod{*p})
	}
	return ""
}

// tempestReported passes the update of a pod of the tempest Job that
// starts to report a result: the Job's own update, which runs a pass
// too, may reach the cache before the pod's.
func tempestReported() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		UpdateFunc:  func(e event.UpdateEvent) bool { return reports(e.ObjectOld) != reports(e.ObjectNew) },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// reports says whether o is a pod that reports a Tempest result.
func reports(o client.Object) bool {
	p, ok := o.(*corev1.Pod)
	return ok && lifecycle.TempestResult([]corev1.Pod{*p}) != nil
}

// deleting passes updates that mark a deployment for deletion.
type deleting struct{ predicate.Funcs }

// Update passes an update that set the deletion timestamp.
func (deleting) Update(e event.UpdateEvent) bool {
	return e.ObjectNew.GetDeletionTimestamp() != nil && e.ObjectOld.GetDeletionTimestamp() == nil
}

func ptr[T any](v T) *T { return &v }
