package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// coalesceWindow is the shortest time between two passes over a
// deployment that watch events start: the events of one burst (a pass's
// own writes coming back, the steps of a rollout, a Job and its pod
// finishing) start one pass at its start and at most one more at its end,
// not one each.
const coalesceWindow = 250 * time.Millisecond

// coalesced is an event handler whose passes are spaced by coalesceWindow:
// an event after a quiet window starts its pass at once, so an upgrade's
// next step waits for nothing; one within the window joins a pass at the
// window's end (the workqueue keeps one request per deployment).
type coalesced struct {
	handler.EventHandler
	*spacing
}

// newCoalesced wraps h.
func newCoalesced(h handler.EventHandler, s *spacing) coalesced { return coalesced{h, s} }

// spacing remembers when each deployment's latest pass was asked for.
// Shared by every handler of a controller; safe for concurrent use.
type spacing struct {
	mu   sync.Mutex
	next map[reconcile.Request]time.Time
}

// after says how long a pass asked for now must wait.
func (s *spacing) after(r reconcile.Request, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == nil {
		s.next = map[reconcile.Request]time.Time{}
	}
	at := s.next[r]
	if !now.Before(at) {
		s.next[r] = now.Add(coalesceWindow)
		return 0
	}
	return at.Sub(now)
}

// forget drops what is remembered of a deployment that is gone.
func (s *spacing) forget(r reconcile.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.next, r)
}

// queue is the workqueue as coalesced hands it to its handler.
type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

type delayed struct {
	queue
	*spacing
}

// Add adds the request at once after a quiet window, else at its end.
func (d delayed) Add(r reconcile.Request) {
	if wait := d.after(r, time.Now()); wait > 0 {
		d.AddAfter(r, wait)
		return
	}
	d.queue.Add(r)
}

// Create passes the event on with a queue that waits.
func (c coalesced) Create(ctx context.Context, e event.CreateEvent, q queue) {
	c.EventHandler.Create(ctx, e, delayed{q, c.spacing})
}

// Update passes the event on with a queue that waits.
func (c coalesced) Update(ctx context.Context, e event.UpdateEvent, q queue) {
	c.EventHandler.Update(ctx, e, delayed{q, c.spacing})
}

// Delete passes the event on with a queue that waits.
func (c coalesced) Delete(ctx context.Context, e event.DeleteEvent, q queue) {
	c.EventHandler.Delete(ctx, e, delayed{q, c.spacing})
}

// Generic passes the event on with a queue that waits.
func (c coalesced) Generic(ctx context.Context, e event.GenericEvent, q queue) {
	c.EventHandler.Generic(ctx, e, delayed{q, c.spacing})
}
