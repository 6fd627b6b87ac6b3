package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/ceph"
	"github.com/oskproject/osk/internal/validation"
)

// CephFinalizer holds a CephDeployment until its Rook objects and Ceph
// Secret are gone, and, unless the spec allows it, while a pool holds
// data.
const CephFinalizer = "osk.dev/ceph"

// Named requeue intervals of a CephDeployment. Rook's status, its client
// Secrets and monitor addresses are read, not watched (they are Rook's,
// and Rook may be absent): a pass reads them again at these intervals.
const (
	// cephProgressRetry: while Rook has not reported everything ready.
	cephProgressRetry = 10 * time.Second
	// cephResync: once it has, to follow health, rotated keys and moved
	// monitors.
	cephResync = 30 * time.Second
	// cephNodesRetry: while spec.nodes matches no usable set of nodes.
	cephNodesRetry = time.Minute
)

// CephDeploymentReconciler turns CephDeployments into Rook's objects and,
// once Rook reports them ready, writes the Ceph Secret OpenStack reads.
type CephDeploymentReconciler struct {
	// Client writes and reads CephDeployments (cached).
	Client client.Client
	// APIReader reads what is not in the cache: Rook's objects, Nodes,
	// Rook's Secrets and ConfigMaps, the Ceph Secret.
	APIReader client.Reader
}

// +kubebuilder:rbac:groups=osk.dev,resources=cephdeployments,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=osk.dev,resources=cephdeployments/status;cephdeployments/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=ceph.rook.io,resources=cephclusters;cephblockpools;cephclients;cephobjectstores,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch

// cephScope carries what the phases of one pass found.
type cephScope struct {
	d *v1.CephDeployment
	// invalid is why the spec or the matched nodes make no cluster.
	invalid error
	// rendered are Rook's objects for the spec.
	rendered []*unstructured.Unstructured
	// live are the Rook objects of the deployment, by kind.
	live map[string][]*unstructured.Unstructured
	// missing says what keeps the Ceph Secret from being written.
	missing []string
	// blocked names the pools whose data holds a deletion back.
	blocked []string
	// rookMissing is true when the cluster serves no Rook kinds.
	rookMissing bool
}

// cephPhase is one ordered step of a pass.
type cephPhase struct {
	name string
	run  func(ctx context.Context, s *cephScope) (ctrl.Result, error)
}

// SetupWithManager registers the reconciler: it runs on a change to a
// CephDeployment's spec or its deletion, and at the named intervals.
func (r *CephDeploymentReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.CephDeployment{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deleting{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, SkipNameValidation: ptr(true)}).
		Complete(r)
}

// Reconcile runs one pass over a CephDeployment: its phases in order,
// then the status patch.
func (r *CephDeploymentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	d := &v1.CephDeployment{}
	if err := r.Client.Get(ctx, req.NamespacedName, d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	d.SetGroupVersionKind(v1.GroupVersion.WithKind("CephDeployment"))
	if d.DeletionTimestamp.IsZero() && controllerutil.AddFinalizer(d, CephFinalizer) {
		if err := r.Client.Update(ctx, d); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
	}
	s := &cephScope{d: d}
	phases := []cephPhase{{"validating", r.validatePhase}, {"rendering", r.renderPhase}, {"applying", r.applyPhase},
		{"pruning", r.prunePhase}, {"observing", r.observePhase}, {"publishing the keys", r.keysPhase}}
	if !d.DeletionTimestamp.IsZero() {
		phases = []cephPhase{{"observing", r.observePhase}, {"deleting", r.deletePhase}, {"releasing", r.releasePhase}}
	}
	before := d.DeepCopy()
	defer func() { err = errors.Join(err, r.patchStatus(ctx, before, s, err)) }()
	for _, p := range phases {
		ctrl.LoggerFrom(ctx).V(1).Info("Running a phase", "phase", p.name)
		if res, err = p.run(ctx, s); err != nil {
			return res, fmt.Errorf("%s: %w", p.name, err)
		}
		if !res.IsZero() {
			return res, nil
		}
	}
	return r.next(s), nil
}

// validatePhase checks the spec; an invalid spec changes nothing.
func (r *CephDeploymentReconciler) validatePhase(_ context.Context, s *cephScope) (ctrl.Result, error) {
	if errs := validation.ValidateCephDeployment(s.d); len(errs) > 0 {
		s.invalid = errs.ToAggregate()
		return ctrl.Result{RequeueAfter: cephNodesRetry}, nil
	}
	return ctrl.Result{}, nil
}

// renderPhase matches spec.nodes to the cluster's nodes and renders
// Rook's objects.
func (r *CephDeploymentReconciler) renderPhase(ctx context.Context, s *cephScope) (ctrl.Result, error) {
	nodes := &corev1.NodeList{}
	if err := r.APIReader.List(ctx, nodes); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing nodes: %w", err)
	}
	matched, err := ceph.MatchNodes(s.d.Spec.Nodes, nodes.Items)
	if err == nil {
		s.rendered, err = ceph.Render(s.d, matched)
	}
	if err != nil {
		s.invalid = err
		return ctrl.Result{RequeueAfter: cephNodesRetry}, nil
	}
	return ctrl.Result{}, nil
}

// applyPhase applies Rook's objects, each only when what osk wants of it
// changed (apply's hash) or was changed by hand.
func (r *CephDeploymentReconciler) applyPhase(ctx context.Context, s *cephScope) (ctrl.Result, error) {
	if err := r.readLive(ctx, s); err != nil || s.rookMissing {
		return ctrl.Result{RequeueAfter: cephNodesRetry}, err
	}
	a := &apply.Applier{Client: r.Client, Owner: s.d}
	for _, o := range s.rendered {
		var live client.Object
		if l := find(s.live[o.GetKind()], o.GetName()); l != nil {
			live = l
		}
		if _, _, err := a.Apply(ctx, o, live); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// prunePhase deletes the Rook objects osk no longer renders; a pool that
// holds data only when the spec allows it.
func (r *CephDeploymentReconciler) prunePhase(ctx context.Context, s *cephScope) (ctrl.Result, error) {
	want := map[string]bool{}
	for _, o := range s.rendered {
		want[o.GetKind()+"/"+o.GetName()] = true
	}
	var gone []*unstructured.Unstructured
	for _, kind := range rookKinds {
		for _, o := range s.live[kind] {
			if !want[kind+"/"+o.GetName()] {
				gone = append(gone, o)
			}
		}
	}
	return ctrl.Result{}, r.deleteRook(ctx, s, gone)
}

// observePhase reads Rook's objects again, with their status, into the
// CephDeployment's status.
func (r *CephDeploymentReconciler) observePhase(ctx context.Context, s *cephScope) (ctrl.Result, error) {
	if err := r.readLive(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	st := &s.d.Status
	st.Health, st.HealthChecks, st.Capacity = ceph.Health(first(s.live[ceph.KindCluster]))
	st.Pools = ceph.PoolStates(s.live[ceph.KindBlockPool])
	return ctrl.Result{}, nil
}

// deletePhase deletes the Rook objects and the Ceph Secret of a deleted
// CephDeployment and waits until they are gone (Rook's own finalizers
// hold them while Rook cleans up). While a pool holds data the spec does
// not let go, it deletes nothing at all: OpenStack keeps its keys and the
// cluster keeps running.
func (r *CephDeploymentReconciler) deletePhase(ctx context.Context, s *cephScope) (ctrl.Result, error) {
	if s.rookMissing {
		return ctrl.Result{}, r.deleteKeys(ctx, s)
	}
	if !s.d.Spec.AllowPoolDeletion {
		if s.blocked = ceph.HoldingData(s.live[ceph.KindBlockPool]); len(s.blocked) > 0 {
			return ctrl.Result{RequeueAfter: cephNodesRetry}, nil
		}
	}
	var all []*unstructured.Unstructured
	for _, kind := range rookKinds {
		all = append(all, s.live[kind]...)
	}
	if err := r.deleteRook(ctx, s, all); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.deleteKeys(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if len(all) > 0 {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, nil
}

// releasePhase removes the finalizer once everything is gone.
func (r *CephDeploymentReconciler) releasePhase(ctx context.Context, s *cephScope) (ctrl.Result, error) {
	if controllerutil.RemoveFinalizer(s.d, CephFinalizer) {
		if err := r.Client.Update(ctx, s.d); err != nil {
			return ctrl.Result{}, fmt.Errorf("removing the finalizer: %w", client.IgnoreNotFound(err))
		}
	}
	return ctrl.Result{}, nil
}

// next says when to look at the CephDeployment again.
func (r *CephDeploymentReconciler) next(s *cephScope) ctrl.Result {
	if !s.d.DeletionTimestamp.IsZero() {
		return ctrl.Result{}
	}
	if len(s.missing) > 0 || len(s.blocked) > 0 {
		return ctrl.Result{RequeueAfter: cephProgressRetry}
	}
	return ctrl.Result{RequeueAfter: cephResync}
}

// patchStatus writes the conditions and, when the pass succeeded,
// observedGeneration; nothing when nothing changed or the object is gone.
func (r *CephDeploymentReconciler) patchStatus(ctx context.Context, before *v1.CephDeployment, s *cephScope, passErr error) error {
	if !s.d.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(s.d, CephFinalizer) {
		return nil
	}
	setCephConditions(&s.d.Status, s.d.Generation, cephFacts{
		invalid: s.invalid, rookMissing: s.rookMissing, missing: s.missing, blocked: s.blocked,
		deleting: !s.d.DeletionTimestamp.IsZero(), passErr: passErr,
	})
	if passErr == nil && s.invalid == nil {
		s.d.Status.ObservedGeneration = s.d.Generation
	}
	if equality.Semantic.DeepEqual(before.Status, s.d.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, s.d, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patching the status: %w", client.IgnoreNotFound(err))
	}
	return nil
}

// rookKinds are Rook's kinds osk renders, in deletion order: users of
// pools first, the cluster last.
var rookKinds = []string{ceph.KindClient, ceph.KindObjectStore, ceph.KindBlockPool, ceph.KindCluster}

// readLive lists the deployment's Rook objects of every kind, with their
// status. A cluster that serves no Rook kinds sets rookMissing.
func (r *CephDeploymentReconciler) readLive(ctx context.Context, s *cephScope) error {
	s.live = map[string][]*unstructured.Unstructured{}
	for _, kind := range rookKinds {
		l := &unstructured.UnstructuredList{}
		l.SetAPIVersion(ceph.RookAPIVersion)
		l.SetKind(kind + "List")
		err := r.APIReader.List(ctx, l, client.InNamespace(s.d.Namespace), client.MatchingLabels{apply.LabelOwner: string(s.d.UID)})
		if apimeta.IsNoMatchError(err) {
			s.rookMissing = true
			continue
		}
		if err != nil {
			return fmt.Errorf("listing %ss: %w", kind, err)
		}
		for i := range l.Items {
			s.live[kind] = append(s.live[kind], &l.Items[i])
		}
	}
	return nil
}

// deleteRook deletes objects, except the pools that hold data when the
// spec does not allow that; those are noted in blocked.
func (r *CephDeploymentReconciler) deleteRook(ctx context.Context, s *cephScope, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if o.GetKind() == ceph.KindBlockPool && ceph.Created(o) && !s.d.Spec.AllowPoolDeletion {
			s.blocked = append(s.blocked, o.GetName())
			continue
		}
		if !o.GetDeletionTimestamp().IsZero() {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Deleting a Rook object", "kind", o.GetKind(), "name", o.GetName())
		if err := r.Client.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}

func find(objs []*unstructured.Unstructured, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetName() == name {
			return o
		}
	}
	return nil
}

func first(objs []*unstructured.Unstructured) *unstructured.Unstructured {
	if len(objs) == 0 {
		return nil
	}
	return objs[0]
}
