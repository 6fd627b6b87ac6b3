// Package controllers holds osk's reconcilers. Each keeps one short
// skeleton — get, finalizer, deferred status, ordered phases — and leaves
// the decisions to pure packages: render (what to run), lifecycle (what
// next), credentials (what to generate) and apply (how to write).
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/apply"
	"github.com/oskproject/osk/internal/render"
)

// Finalizer holds an OpenStackDeployment until osk has removed what it
// created.
const Finalizer = "osk.dev/cleanup"

// OpenStackDeploymentReconciler makes a cluster run what its
// OpenStackDeployments describe.
type OpenStackDeploymentReconciler struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server directly. Credentials are read
	// from the cache; before a generated value is stored, the Secret is read
	// here, so that a lagging cache never makes osk overwrite one.
	APIReader client.Reader
	// Recorder records events on the deployments.
	Recorder record.EventRecorder
	// Render tunes the renderer (osk's own image).
	Render render.Options
	// verified remembers, across passes, the live objects found up to
	// date.
	verified apply.Verified
	// stamps remembers, across passes, the rendered objects stamped.
	stamps apply.Stamps
	// written remembers what osk's writes made: their watch events start
	// no pass (notEcho).
	written apply.Written
	// unserved remembers the kinds the cluster does not serve.
	unserved apply.Unserved
	// statusPace paces the status writes of progress alone.
	statusPace statusPace
	// spaced spaces the passes watch events start (coalesced).
	spaced spacing
	// renders keeps each deployment's last renderings.
	renders renderCache
	// cephKeys reads the labelled Ceph Secrets from their own cache
	// (cephKeysSource); nil until the controller is set up.
	cephKeys client.Reader
}

// +kubebuilder:rbac:groups=osk.dev,resources=openstackdeployments,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=osk.dev,resources=openstackdeployments/status;openstackdeployments/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;secrets;configmaps;serviceaccounts;persistentvolumeclaims,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings;clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// RBAC lets osk create a Role only with permissions it holds (it has
// neither bind nor escalate): the ingress controller's Role needs these.
// +kubebuilder:rbac:groups="",resources=endpoints,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses/status,verbs=update
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;ingressclasses;networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=prometheusrules;alertmanagerconfigs;podmonitors,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch;update;patch

// Reconcile runs one pass over one deployment.
func (r *OpenStackDeploymentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	start := time.Now()
	d := &v1.OpenStackDeployment{}
	if err := r.Client.Get(ctx, req.NamespacedName, d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	d.SetGroupVersionKind(v1.GroupVersion.WithKind("OpenStackDeployment"))
	if !d.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, d)
	}
	if controllerutil.AddFinalizer(d, Finalizer) {
		if err := r.Client.Update(ctx, d); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
	}
	before := d.DeepCopy()
	defer func() {
		wait, serr := timedPair("status", func() (time.Duration, error) { return r.writeStatus(ctx, d, before) })
		if serr != nil {
			err = errors.Join(err, serr)
		}
		if wait > 0 && err == nil && res.RequeueAfter == 0 {
			// The progress not written yet is written by the next pass:
			// one is due anyway while the deployment is APPLYING
			// (progressRefresh) or after an error, or else in wait.
			res.RequeueAfter = wait
		}
		// The pass's duration includes its status write.
		observe(d, time.Since(start))
	}()
	return r.reconcile(ctx, d)
}

// reconcile runs the phases of a pass: render, credentials, plan,
// apply, prune, status.
func (r *OpenStackDeploymentReconciler) reconcile(ctx context.Context, d *v1.OpenStackDeployment) (ctrl.Result, error) {
	p := &pass{r: r, d: d, applier: r.applier(d)}
	if !timed("render", func() bool { return p.render(ctx) }) {
		return ctrl.Result{}, nil // the spec is invalid: nothing changes until it does
	}
	for _, phase := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"credentials", p.credentials},
		{"plan", p.plan},
		{"apply", p.apply},
		{"prune", p.prune},
	} {
		if err := timed(phase.name, func() error { return phase.run(ctx) }); err != nil {
			setCondition(d, v1.ConditionReady, metav1.ConditionFalse, "ReconcileError", fmt.Sprintf("%s: %v", phase.name, err))
			return ctrl.Result{}, fmt.Errorf("%s: %w", phase.name, err)
		}
	}
	p.status()
	if p.applier.Missed() {
		// Another writer changed an object while this pass wrote it: its
		// watch event was held back as a possible echo of the write.
		return ctrl.Result{RequeueAfter: coalesceWindow}, nil
	}
	if p.upgradeCompletes() {
		// Status changes trigger no pass: look again, once the cache holds
		// the completed upgrade, to remove its Jobs.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	if d.Status.State == v1.StateApplying {
		// Rollouts' progress starts no pass (rolloutChanged).
		return ctrl.Result{RequeueAfter: progressRefresh}, nil
	}
	return ctrl.Result{}, nil
}

// progressRefresh is how often a deployment that is APPLYING is looked at
// again, so its status's counts of ready pods stay current.
const progressRefresh = 5 * time.Second

func (r *OpenStackDeploymentReconciler) applier(d *v1.OpenStackDeployment) *apply.Applier {
	return &apply.Applier{Client: r.Client, Owner: d, Writes: countWrite, Verified: &r.verified, Stamps: &r.stamps, Written: &r.written, Unserved: &r.unserved, Reader: r.APIReader}
}

// finalize removes what the deployment created, except its data unless
// the spec says so, then lets the deployment go.
func (r *OpenStackDeploymentReconciler) finalize(ctx context.Context, d *v1.OpenStackDeployment) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(d, Finalizer) {
		return ctrl.Result{}, nil
	}
	a := r.applier(d)
	owned, err := a.Owned(ctx)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("cleanup: %w", err)
	}
	remaining, err := a.DeleteAll(ctx, owned, d.Spec.Features.Database.VolumeClaimPolicy == v1.VolumeClaimsDelete)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("cleanup: %w", err)
	}
	if remaining > 0 {
		log.FromContext(ctx).Info("cleaning up", "remaining", remaining)
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}
	done, err := r.forgetGalera(ctx, d)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("cleanup: %w", err)
	}
	if !done {
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}
	controllerutil.RemoveFinalizer(d, Finalizer)
	if err := r.Client.Update(ctx, d); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("removing the finalizer: %w", err)
	}
	forget(d)
	r.renders.forget(d.UID)
	r.stamps.Forget(d.UID)
	r.statusPace.forget(d.UID)
	r.spaced.forget(ctrl.Request{NamespacedName: client.ObjectKeyFromObject(d)})
	return ctrl.Result{}, nil
}

// writeStatus writes the status when it changed, and records an event
// when the state did. A change of progress alone is written at most once
// per statusInterval: it returns how long until it may be, for the pass to
// come back then.
func (r *OpenStackDeploymentReconciler) writeStatus(ctx context.Context, d, before *v1.OpenStackDeployment) (time.Duration, error) {
	publishState(d)
	if equality.Semantic.DeepEqual(before.Status, d.Status) {
		return 0, nil
	}
	now := time.Now()
	if wait := r.statusPace.wait(d.UID, now); wait > 0 && progressOnly(&before.Status, &d.Status) {
		return wait, nil
	}
	r.statusPace.wrote(d.UID, now)
	if before.Status.State != d.Status.State {
		kind := "Normal"
		if d.Status.State == v1.StateFailed {
			kind = "Warning"
		}
		msg := fmt.Sprintf("%s, %s steps ready", d.Status.State, d.Status.Progress)
		if c := apimeta.FindStatusCondition(d.Status.Conditions, v1.ConditionReady); c != nil && c.Status != metav1.ConditionTrue {
			msg += ": " + c.Message
		}
		r.Recorder.Event(d, kind, string(d.Status.State), msg)
	}
	// osk is the status's only writer: a merge patch of what this pass
	// changed needs no lock, and a lagging cache cannot make it conflict.
	countWrite("status", "OpenStackDeployment")
	if err := r.Client.Status().Patch(ctx, d, client.MergeFrom(before)); err != nil {
		return 0, fmt.Errorf("writing the status: %w", err)
	}
	return 0, nil
}

// setCondition sets a condition of the current generation.
func setCondition(d *v1.OpenStackDeployment, kind string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&d.Status.Conditions, metav1.Condition{
		Type: kind, Status: status, Reason: reason, Message: msg, ObservedGeneration: d.Generation,
	})
}
