package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/helm"
)

// HelmBundleFinalizer holds a HelmBundle until its releases are
// uninstalled.
const HelmBundleFinalizer = "osk.dev/helm-releases"

const (
	// bundleResync is how often a bundle is checked again when its spec
	// sets no interval.
	bundleResync = 10 * time.Minute
	// bundleProgressRetry is how soon a bundle whose releases are not all
	// settled is looked at again.
	bundleProgressRetry = 10 * time.Second
	// bundleResolveRetry is how soon a bundle whose charts or values could
	// not be resolved is tried again.
	bundleResolveRetry = time.Minute
)

// Condition reasons of a HelmBundle.
const (
	reasonInvalid     = "InvalidSpec"
	reasonUnresolved  = "ResolveFailed"
	reasonFailed      = "ReleaseFailed"
	reasonProgressing = "Progressing"
	reasonInSync      = "InSync"
	reasonValid       = "Valid"
)

// HelmBundleReconciler keeps the Helm releases of HelmBundles installed,
// upgraded and in sync, and uninstalls them when they leave the bundle.
//
// Helm acts as the bundle's ServiceAccount (impersonated), or with osk's
// own rights when the bundle names none: osk is not given the right to
// write every kind a chart might hold.
type HelmBundleReconciler struct {
	// Client reads and writes HelmBundles (cached).
	Client client.Client
	// Resolver reads values and credentials (uncached) and downloads charts.
	Resolver *helm.Resolver
	// Releases runs Helm with its own clients.
	Releases *helm.Releases
	// Recorder records an event for every Helm action; nil records none.
	Recorder record.EventRecorder
}

// +kubebuilder:rbac:groups=osk.dev,resources=helmbundles,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=osk.dev,resources=helmbundles/status;helmbundles/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=impersonate

// bundleScope carries what the phases of one pass found.
type bundleScope struct {
	bundle  *v1.HelmBundle
	plan    *helm.Plan
	want    map[string]helm.Desired
	invalid error
	// unresolved is true when invalid may go away by itself (a chart not
	// yet published, a Secret not yet created).
	unresolved bool
}

// bundlePhase is one ordered step of a pass.
type bundlePhase func(ctx context.Context, s *bundleScope) (ctrl.Result, error)

// SetupWithManager registers the reconciler: it runs on changes to a
// bundle's spec or deletion, and every interval to repair drift.
func (r *HelmBundleReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.HelmBundle{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deleting{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, SkipNameValidation: ptr(true)}).
		Complete(r)
}

// Reconcile runs one pass over a bundle: its phases in order, then the
// status patch.
func (r *HelmBundleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	b := &v1.HelmBundle{}
	if err := r.Client.Get(ctx, req.NamespacedName, b); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if b.DeletionTimestamp.IsZero() && controllerutil.AddFinalizer(b, HelmBundleFinalizer) {
		if err := r.Client.Update(ctx, b); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
	}
	s := &bundleScope{bundle: b}
	phases := []bundlePhase{r.resolvePhase, r.prunePhase, r.syncPhase}
	if !b.DeletionTimestamp.IsZero() {
		phases = []bundlePhase{r.uninstallPhase, r.releasePhase}
	} else {
		before := b.DeepCopy()
		defer func() { err = errors.Join(err, r.patchStatus(ctx, before, s, err)) }()
	}
	for _, phase := range phases {
		if res, err = phase(ctx, s); err != nil || !res.IsZero() {
			return res, err
		}
	}
	return r.next(s), nil
}

// resolvePhase checks the spec and resolves every chart and values; on
// failure nothing in the cluster is touched.
func (r *HelmBundleReconciler) resolvePhase(ctx context.Context, s *bundleScope) (ctrl.Result, error) {
	s.plan, s.invalid = helm.NewPlan(s.bundle.Spec)
	if s.invalid != nil {
		return ctrl.Result{RequeueAfter: interval(s.bundle)}, nil
	}
	s.want, s.invalid = r.Resolver.Resolve(ctx, s.plan, s.bundle.Namespace)
	if s.invalid != nil {
		s.unresolved = true
		return ctrl.Result{RequeueAfter: bundleResolveRetry}, nil
	}
	return ctrl.Result{}, nil
}

// prunePhase uninstalls the releases that left the bundle, dependents
// (installed last) first.
func (r *HelmBundleReconciler) prunePhase(ctx context.Context, s *bundleScope) (ctrl.Result, error) {
	keep := s.bundle.Status.Releases[:0:0]
	for _, st := range slices.Backward(s.bundle.Status.Releases) {
		if d, ok := s.want[st.Name]; ok && d.Namespace == st.Namespace {
			keep = append(keep, st)
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Uninstalling a release removed from the bundle", "release", st.Name, "namespace", st.Namespace)
		if err := r.Releases.UninstallRelease(ctx, st, helmUser(s.bundle)); err != nil {
			return ctrl.Result{}, fmt.Errorf("pruning: %w", err)
		}
	}
	slices.Reverse(keep)
	s.bundle.Status.Releases = keep
	return ctrl.Result{}, nil
}

// syncPhase brings every release to the wanted state, in dependency order.
func (r *HelmBundleReconciler) syncPhase(ctx context.Context, s *bundleScope) (ctrl.Result, error) {
	sts, err := r.Releases.SyncBundle(ctx, s.plan, s.want, s.bundle.Status.Releases, r.notify(s.bundle))
	s.bundle.Status.Releases = sts
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("syncing releases: %w", err)
	}
	return ctrl.Result{}, nil
}

// notify records an event on the bundle for each Helm action. The
// message names the release and action, never values.
func (r *HelmBundleReconciler) notify(b *v1.HelmBundle) helm.Notify {
	return func(release string, a helm.Action, msg string, err error) {
		switch {
		case r.Recorder == nil:
		case err != nil:
			r.Recorder.Eventf(b, corev1.EventTypeWarning, string(a)+"Failed", "Release %s: %s failed: %v", release, a, err)
		default:
			r.Recorder.Eventf(b, corev1.EventTypeNormal, string(a), "Release %s: %s", release, msg)
		}
	}
}

// uninstallPhase uninstalls every release of a deleted bundle in reverse
// install order, recording progress so that a failure resumes.
func (r *HelmBundleReconciler) uninstallPhase(ctx context.Context, s *bundleScope) (ctrl.Result, error) {
	for _, st := range slices.Backward(s.bundle.Status.Releases) {
		ctrl.LoggerFrom(ctx).Info("Uninstalling a release of a deleted bundle", "release", st.Name, "namespace", st.Namespace)
		if err := r.Releases.UninstallRelease(ctx, st, helmUser(s.bundle)); err != nil {
			return ctrl.Result{}, fmt.Errorf("uninstalling the bundle: %w", err)
		}
	}
	return ctrl.Result{}, nil
}

// releasePhase removes the finalizer once every release is gone.
func (r *HelmBundleReconciler) releasePhase(ctx context.Context, s *bundleScope) (ctrl.Result, error) {
	if controllerutil.RemoveFinalizer(s.bundle, HelmBundleFinalizer) {
		if err := r.Client.Update(ctx, s.bundle); err != nil {
			return ctrl.Result{}, fmt.Errorf("removing the finalizer: %w", err)
		}
	}
	return ctrl.Result{}, nil
}

// next says when to look at the bundle again: soon while a release is
// progressing or waits for one that may still get there, else at the
// bundle's interval.
func (r *HelmBundleReconciler) next(s *bundleScope) ctrl.Result {
	if !s.bundle.DeletionTimestamp.IsZero() {
		return ctrl.Result{}
	}
	count := map[v1.ReleaseState]int{}
	for _, st := range s.bundle.Status.Releases {
		count[st.State]++
	}
	if count[v1.ReleaseProgressing] > 0 || count[v1.ReleaseWaiting] > 0 && count[v1.ReleaseFailed] == 0 {
		return ctrl.Result{RequeueAfter: bundleProgressRetry}
	}
	return ctrl.Result{RequeueAfter: interval(s.bundle)}
}

// helmUser is who Helm acts as for the bundle.
func helmUser(b *v1.HelmBundle) string {
	return helm.ServiceAccountUser(b.Namespace, b.Spec.ServiceAccountName)
}

func interval(b *v1.HelmBundle) time.Duration {
	if b.Spec.Interval != nil && b.Spec.Interval.Duration > 0 {
		return b.Spec.Interval.Duration
	}
	return bundleResync
}

// patchStatus writes the conditions and, when the pass succeeded,
// observedGeneration; it writes nothing when nothing changed.
func (r *HelmBundleReconciler) patchStatus(ctx context.Context, before *v1.HelmBundle, s *bundleScope, passErr error) error {
	b := s.bundle
	setSpecValid(&b.Status, b.Generation, s)
	setBundleReady(&b.Status, b.Generation, s, passErr)
	if passErr == nil && s.invalid == nil {
		b.Status.ObservedGeneration = b.Generation
	}
	if equality.Semantic.DeepEqual(before.Status, b.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, b, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patching the status: %w", client.IgnoreNotFound(err))
	}
	return nil
}

// setSpecValid sets SpecValid from the checks and resolution of the spec.
func setSpecValid(st *v1.HelmBundleStatus, gen int64, s *bundleScope) {
	c := metav1.Condition{Type: v1.ConditionSpecValid, Status: metav1.ConditionTrue, Reason: reasonValid, ObservedGeneration: gen}
	if s.invalid != nil {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, invalidReason(s), s.invalid.Error()
	}
	apimeta.SetStatusCondition(&st.Conditions, c)
}

func invalidReason(s *bundleScope) string {
	if s.unresolved {
		return reasonUnresolved
	}
	return reasonInvalid
}

// setBundleReady summarizes the releases into the bundle's Ready.
func setBundleReady(st *v1.HelmBundleStatus, gen int64, s *bundleScope, passErr error) {
	c := metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, ObservedGeneration: gen}
	c.Reason, c.Message = readiness(st.Releases, s, passErr)
	if c.Reason == reasonInSync {
		c.Status = metav1.ConditionTrue
	}
	apimeta.SetStatusCondition(&st.Conditions, c)
}

func readiness(rs []v1.HelmReleaseStatus, s *bundleScope, passErr error) (reason, msg string) {
	if s.invalid != nil {
		return invalidReason(s), s.invalid.Error()
	}
	for _, r := range rs {
		if r.State == v1.ReleaseFailed {
			return reasonFailed, fmt.Sprintf("release %s failed: %s", r.Name, r.Message)
		}
	}
	if passErr != nil {
		return reasonProgressing, passErr.Error()
	}
	for _, r := range rs {
		if r.State != v1.ReleaseInSync {
			return reasonProgressing, fmt.Sprintf("release %s: %s", r.Name, r.Message)
		}
	}
	return reasonInSync, fmt.Sprintf("%d releases in sync", len(rs))
}

// SetupHelmBundle creates a HelmBundleReconciler whose Helm work goes
// through its own clients from the manager's REST config, never the
// manager's label-filtered cache, and registers it with the manager.
func SetupHelmBundle(mgr ctrl.Manager, workers int) error {
	releases, err := helm.NewReleases(mgr.GetConfig())
	if err != nil {
		return err
	}
	r := &HelmBundleReconciler{
		Client:   mgr.GetClient(),
		Resolver: &helm.Resolver{Reader: mgr.GetAPIReader(), Charts: helm.NewCharts()},
		Releases: releases,
		Recorder: mgr.GetEventRecorderFor("osk"),
	}
	return r.SetupWithManager(mgr, workers)
}
