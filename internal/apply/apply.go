// Package apply makes the cluster hold the objects osk renders: it applies
// them with server-side apply under one field manager, writes only when
// the live object lacks what osk wants, replaces Jobs whose inputs
// changed, and prunes what osk no longer renders.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/render"
)

// FieldManager is the field manager of everything osk applies.
const FieldManager = "osk"

// Labels osk adds to what it applies.
const (
	// LabelOwner is the UID of the OpenStackDeployment an object belongs
	// to: the selector of pruning and clean-up, for cluster-scoped objects
	// too, which cannot have an owner reference to a namespaced object.
	LabelOwner = "osk.dev/owner"
	// AnnotationAppliedHash is a hash of what osk last applied to the
	// object; with a check that the live object still holds it, it spares
	// the API server a write when nothing changed.
	AnnotationAppliedHash = "osk.dev/applied-hash"
)

// Result is what Apply did to one object.
type Result string

// Results of Apply.
const (
	// Unchanged: the live object already holds what osk wants; no write.
	Unchanged Result = "unchanged"
	// Applied: osk created or patched the object.
	Applied Result = "applied"
	// Replaced: a Job's inputs changed; osk deleted the old Job, and
	// created the new one when the old was gone at once (Apply returns
	// it), else creates it once it is gone.
	Replaced Result = "replaced"
)

// Applier applies objects for one owner.
type Applier struct {
	// Client writes to the API server and lists (from the manager's cache).
	Client client.Client
	// Owner is the OpenStackDeployment; namespaced objects get a
	// controller reference to it.
	Owner client.Object
	// Writes, when set, counts each write by verb and kind.
	Writes func(verb, kind string)
	// Verified, when set, remembers the live objects found up to date
	// across passes.
	Verified *Verified
	// Stamps, when set, remembers across passes the objects already
	// stamped, so that the same rendered objects are not hashed again.
	Stamps *Stamps
	// Written, when set, remembers what osk's writes made, to tell their
	// watch events from others'.
	Written *Written
	// Unserved, when set, remembers across passes the kinds the cluster
	// does not serve.
	Unserved *Unserved
	// Reader, when set, reads from the API server itself: whether a Job
	// deleted to run anew is gone, so the new one is created at once.
	Reader client.Reader
	// mu guards stamped and missed: Apply is safe for concurrent use.
	mu sync.Mutex
	// stamped are the objects this Applier stamped, with their hashes.
	stamped map[client.Object]string
	// missed is set when an event held back during a write was another
	// writer's (Written).
	missed bool
}

// Missed reports whether, while this Applier wrote, another writer changed
// one of the objects: the watch event of that change was held back with
// the write's own, so the owner's pass must run again to see it.
func (a *Applier) Missed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.missed
}

// miss notes an event missed (Missed), when missed is true.
func (a *Applier) miss(missed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.missed = a.missed || missed
}

// Stamps remembers, per owner, the rendered objects the owner's last pass
// stamped and the hash each got. A render cache hands the next pass the
// very same objects, and rendered objects change after rendering only by
// their stamp, so an object found here with its hash still on it needs no
// new one. Each pass's Remember replaces the owner's set with the objects
// it stamped: what a pass no longer applies is forgotten. Safe for
// concurrent use; the zero value is ready.
type Stamps struct {
	mu sync.Mutex
	by map[types.UID]map[client.Object]string
}

func (s *Stamps) known(owner types.UID, o client.Object) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.by[owner][o]
	return ok && o.GetAnnotations()[AnnotationAppliedHash] == h
}

// Remember keeps what a stamped in this pass, in place of what the
// owner's earlier passes stamped.
func (a *Applier) Remember() {
	if a.Stamps == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Stamps.mu.Lock()
	defer a.Stamps.mu.Unlock()
	if a.Stamps.by == nil {
		a.Stamps.by = map[types.UID]map[client.Object]string{}
	}
	a.Stamps.by[a.Owner.GetUID()] = a.stamped
}

// Forget drops what is remembered of an owner that is gone.
func (s *Stamps) Forget(owner types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.by, owner)
}

// Verified remembers which live objects were found to hold what osk
// wants: by UID, the resource version then seen and the applied hash then
// wanted. An object neither changed nor wanted differently since is up to
// date without being compared field by field again, which is most of what
// a pass with little to change would otherwise spend. Safe for concurrent
// use; the zero value is ready.
type Verified struct {
	mu   sync.Mutex
	seen map[types.UID]verified
}

type verified struct{ resourceVersion, hash string }

// upToDate is UpToDate, remembered.
func (v *Verified) upToDate(desired, live client.Object) bool {
	if v == nil || live.GetUID() == "" {
		return UpToDate(desired, live)
	}
	want := verified{live.GetResourceVersion(), desired.GetAnnotations()[AnnotationAppliedHash]}
	v.mu.Lock()
	known := v.seen[live.GetUID()] == want
	v.mu.Unlock()
	if known {
		return true
	}
	if !UpToDate(desired, live) {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[types.UID]verified{}
	}
	v.seen[live.GetUID()] = want
	return true
}

// Forget drops what is remembered of objects that are gone.
func (v *Verified) Forget(uids ...types.UID) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, u := range uids {
		delete(v.seen, u)
	}
}

// Prepare stamps objects as Apply would, ahead of it. Rendered objects
// may share maps (labels, selectors), so stamping writes to what other
// objects read: a caller that applies concurrently prepares first, one
// object at a time, and Apply then changes none of them.
func (a *Applier) Prepare(objects ...client.Object) error {
	for _, o := range objects {
		if err := a.prepare(o); err != nil {
			return err
		}
	}
	return nil
}

// prepare labels an object as the owner's and, when in the owner's
// namespace and not retained, adds the owner reference (which cannot
// point across namespaces: objects in another namespace, such as the node
// agents', are the owner's by the label alone and osk deletes them with
// the owner), then stamps the hash of the result. An object stamped
// already, by this Applier or the owner's last pass, is left as it is.
func (a *Applier) prepare(o client.Object) error {
	if a.stampedNow(o) {
		return nil
	}
	if a.Stamps.known(a.Owner.GetUID(), o) {
		a.keep(o)
		return nil
	}
	l := o.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[LabelOwner] = string(a.Owner.GetUID())
	o.SetLabels(l)
	// Retained kinds carry no owner reference: the garbage collector would
	// delete them with the deployment.
	if o.GetNamespace() != "" && o.GetNamespace() == a.Owner.GetNamespace() && !Retained(o.GetObjectKind().GroupVersionKind().Kind) {
		gvk := a.Owner.GetObjectKind().GroupVersionKind()
		o.SetOwnerReferences([]metav1.OwnerReference{{
			APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: a.Owner.GetName(),
			UID: a.Owner.GetUID(), Controller: ptr(true), BlockOwnerDeletion: ptr(true),
		}})
	}
	ann := o.GetAnnotations()
	delete(ann, AnnotationAppliedHash)
	h, err := hashOf(o)
	if err != nil {
		return err
	}
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationAppliedHash] = h
	o.SetAnnotations(ann)
	a.keep(o)
	return nil
}

// stampedNow reports whether this Applier stamped o, as it still is.
func (a *Applier) stampedNow(o client.Object) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.stamped[o]
	return ok && o.GetAnnotations()[AnnotationAppliedHash] == h
}

// keep notes o as stamped by this pass.
func (a *Applier) keep(o client.Object) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stamped == nil {
		a.stamped = map[client.Object]string{}
	}
	a.stamped[o] = o.GetAnnotations()[AnnotationAppliedHash]
}

// Apply stamps o as the owner's and makes the cluster hold it; live is
// the object as last observed (nil when absent). Only what a pass applies
// is stamped: the stamp's hash is the costly part of rendering's output.
// When it wrote, the object as the API server returned it is returned
// too: what the cluster holds now, for the pass to plan on.
func (a *Applier) Apply(ctx context.Context, o, live client.Object) (Result, client.Object, error) {
	if err := a.prepare(o); err != nil {
		return "", nil, err
	}
	kind := o.GetObjectKind().GroupVersionKind().Kind
	if live != nil && a.Verified.upToDate(o, live) {
		return Unchanged, nil, nil
	}
	result := Applied
	if job, ok := o.(*batchv1.Job); ok && live != nil &&
		live.GetAnnotations()[render.AnnotationInputsHash] != job.Annotations[render.AnnotationInputsHash] {
		gone, err := a.deleteJob(ctx, live)
		if err != nil || !gone {
			return Replaced, nil, err
		}
		result = Replaced // and created anew below
	}
	obj := o.DeepCopyObject().(client.Object) // the response is written into it
	a.Written.begin(o)
	//nolint:staticcheck // typed objects are what the renderer produces.
	err := a.Client.Patch(quietFor(ctx, obj), obj, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership)
	a.count("apply", kind)
	if err != nil {
		a.miss(a.Written.done(o, nil))
		return "", nil, fmt.Errorf("applying %s %s: %w", kind, o.GetName(), err)
	}
	a.miss(a.Written.done(o, obj))
	return result, obj, nil
}

// deleteJob deletes a Job whose inputs changed (its pod template cannot
// change: a new one must run) and reports whether it is gone already, so
// that the new one can be created at once: with background propagation
// and no finalizer, it is. Otherwise the deletion's event starts the pass
// that creates it.
func (a *Applier) deleteJob(ctx context.Context, live client.Object) (gone bool, err error) {
	a.Written.expectDelete(live)
	err = a.Client.Delete(ctx, live, client.PropagationPolicy(metav1.DeletePropagationBackground))
	a.count("delete", "Job")
	if err != nil && !apierrors.IsNotFound(err) {
		a.miss(a.Written.unexpectDelete(live))
		return false, fmt.Errorf("replacing Job %s: %w", live.GetName(), err)
	}
	if a.Verified != nil {
		a.Verified.Forget(live.GetUID())
	}
	var still error // nil: the Job is still there, or osk cannot tell
	if a.Reader != nil {
		still = a.Reader.Get(ctx, client.ObjectKeyFromObject(live), &batchv1.Job{})
		if apierrors.IsNotFound(still) {
			return true, nil
		}
	}
	a.miss(a.Written.unexpectDelete(live))
	if still != nil {
		return false, fmt.Errorf("replacing Job %s: %w", live.GetName(), still)
	}
	return false, nil
}

func (a *Applier) count(verb, kind string) {
	if a.Writes != nil {
		a.Writes(verb, kind)
	}
}

// UpToDate reports whether a live object still holds what osk applied: the
// same applied hash, and every field osk sets still set to osk's value.
// Fields osk leaves unset are the API server's to default, so defaulting
// is no difference; a changed replica count or image is.
func UpToDate(desired, live client.Object) bool {
	if desired.GetAnnotations()[AnnotationAppliedHash] != live.GetAnnotations()[AnnotationAppliedHash] {
		return false
	}
	d, err := runtime.DefaultUnstructuredConverter.ToUnstructured(desired)
	if err != nil {
		return false
	}
	l, err := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
	if err != nil {
		return false
	}
	// The kind is the same, and the status is the object's controller's
	// (some status types serialize their zero counts). An unstructured
	// object converts to its own map: the copy keeps it whole.
	d = maps.Clone(d)
	delete(d, "apiVersion")
	delete(d, "kind")
	delete(d, "status")
	return Subset(d, l)
}

// Subset reports whether every value set in desired (a JSON-like tree) is
// set to the same value in live. Maps compare by key; lists by position,
// and live may hold more items (another field manager's); a null in
// desired sets nothing.
func Subset(desired, live any) bool {
	switch d := desired.(type) {
	case nil:
		return true
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return len(d) == 0
		}
		for k, v := range d {
			if !Subset(v, l[k]) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok {
			return len(d) == 0
		}
		if len(d) > len(l) {
			return false
		}
		for i := range d {
			if !Subset(d[i], l[i]) {
				return false
			}
		}
		return true
	}
	return desired == live
}

func hashOf(o client.Object) (string, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", o.GetName(), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

func ptr[T any](v T) *T { return &v }
