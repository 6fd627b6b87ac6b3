package apply

import (
	"reflect"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Written tells the watch events of osk's own writes from other writers'.
// The pass that wrote already planned on the write's response, so a pass
// run for its echo would find nothing new. It remembers, by UID, the
// resource version each write gave an object; an event that arrives while
// its object's write is still in flight (the watch often beats the
// response) is held back until the response tells whether it was the
// write's own: if not, the write's Applier reports a missed event and its
// pass must run again. Safe for concurrent use; the zero value is ready.
type Written struct {
	mu sync.Mutex
	// rv is the resource version of each object's latest write.
	rv map[types.UID]string
	// flying holds the writes in flight, each with the resource versions
	// of the events held back meanwhile.
	flying map[target][]string
	// deleting holds the objects osk deletes to create anew in the same
	// pass (a Job whose inputs changed), with when; every handler their
	// deletion's event reaches looks, so they are kept a while after.
	deleting map[types.UID]*deletion
}

// deletion is a deletion of osk's: when, and whether its event came.
type deletion struct {
	at   time.Time
	seen bool
}

// deletingKept is how long an object osk deleted is remembered.
const deletingKept = 10 * time.Minute

// target names an object across kinds: its Go type, namespace and name.
type target struct {
	t         reflect.Type
	namespace string
	name      string
}

func targetOf(o client.Object) target {
	return target{reflect.TypeOf(o), o.GetNamespace(), o.GetName()}
}

// begin marks a write of o as in flight.
func (w *Written) begin(o client.Object) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.flying == nil {
		w.flying = map[target][]string{}
	}
	w.flying[targetOf(o)] = []string{}
}

// done ends o's write; got is the API server's response, nil when the
// write failed. It reports whether an event held back meanwhile was not
// the write's own.
func (w *Written) done(o, got client.Object) (missed bool) {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := targetOf(o)
	held := w.flying[t]
	delete(w.flying, t)
	if got != nil {
		if w.rv == nil {
			w.rv = map[types.UID]string{}
		}
		w.rv[got.GetUID()] = got.GetResourceVersion()
	}
	for _, rv := range held {
		if got == nil || rv != got.GetResourceVersion() {
			return true
		}
	}
	return false
}

// Echo reports whether o, as a watch event delivers it, is what osk's
// latest write of it made, or may be while that write is in flight (then
// the event is held back, for done to judge). A write stays remembered,
// for every handler its event reaches, until the next write of the object
// or Forget: one entry per live object.
func (w *Written) Echo(o client.Object) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rv, ok := w.rv[o.GetUID()]; ok && rv == o.GetResourceVersion() {
		return true
	}
	t := targetOf(o)
	if held, ok := w.flying[t]; ok {
		w.flying[t] = append(held, o.GetResourceVersion())
		return true
	}
	return false
}

// expectDelete marks o's coming deletion as osk's own.
func (w *Written) expectDelete(o client.Object) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.deleting == nil {
		w.deleting = map[types.UID]*deletion{}
	}
	for uid, d := range w.deleting {
		if now.Sub(d.at) > deletingKept {
			delete(w.deleting, uid)
		}
	}
	w.deleting[o.GetUID()] = &deletion{at: now}
}

// unexpectDelete takes back expectDelete, when the object is not gone
// yet and its deletion's event must start a pass after all. It reports
// whether that event came, and was dropped, meanwhile.
func (w *Written) unexpectDelete(o client.Object) (dropped bool) {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.deleting[o.GetUID()]
	delete(w.deleting, o.GetUID())
	return ok && d.seen
}

// Deleted is the deletion's counterpart of Echo: it forgets o, gone, and
// reports whether osk deleted it to create it anew in the same pass.
func (w *Written) Deleted(o client.Object) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.rv, o.GetUID())
	d, mine := w.deleting[o.GetUID()]
	if mine {
		d.seen = true
	}
	return mine
}

// Forget drops what is remembered of an object that is gone.
func (w *Written) Forget(o client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.rv, o.GetUID())
}
