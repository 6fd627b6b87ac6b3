package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/oskproject/osk/internal/render"
)

// TestCoalesced checks that the first event of a burst asks for a pass at
// once and the rest of the burst for one more, at the window's end.
func TestCoalesced(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	spaced := &spacing{}
	h := newCoalesced(handler.EnqueueRequestsFromMapFunc(deploymentOfPod), spaced)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "api-1", Labels: map[string]string{render.LabelInstance: "cloud"}}}
	want := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "cloud"}}
	ctx := context.Background()
	h.Create(ctx, event.CreateEvent{Object: pod}, q)
	if n := q.Len(); n != 1 {
		t.Fatalf("%d requests queued by the first event, want 1 at once", n)
	}
	if r, _ := q.Get(); r != want {
		t.Fatalf("queued %v, want %v", r, want)
	}
	q.Done(want)
	start := time.Now()
	h.Update(ctx, event.UpdateEvent{ObjectOld: pod, ObjectNew: pod}, q)
	h.Delete(ctx, event.DeleteEvent{Object: pod}, q)
	if n := q.Len(); n != 0 && time.Since(start) < coalesceWindow/2 {
		t.Fatalf("%d requests queued at once within the window, want them at its end", n)
	}
	time.Sleep(coalesceWindow + 100*time.Millisecond)
	if n := q.Len(); n != 1 {
		t.Fatalf("%d requests queued at the window's end, want 1", n)
	}
	spaced.forget(want)
	if len(spaced.next) != 0 {
		t.Errorf("forget left %d deployments", len(spaced.next))
	}
}
