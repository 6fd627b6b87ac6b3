package apply

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func object(rv string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nova-etc", UID: "u1", ResourceVersion: rv}}
}

// TestWrittenTellsEchoesFromOthersWrites: the event of osk's own write is
// an echo, for every handler it reaches; another writer's change of the
// same object is not.
func TestWrittenTellsEchoesFromOthersWrites(t *testing.T) {
	var w Written
	w.begin(object(""))
	if w.done(object(""), object("10")) {
		t.Error("a write without events meanwhile missed one")
	}
	for range 2 {
		if !w.Echo(object("10")) {
			t.Error("the event of osk's write is not an echo")
		}
	}
	if w.Echo(object("11")) {
		t.Error("a later change by another writer is an echo")
	}
	w.Forget(object("10"))
	if w.Echo(object("10")) {
		t.Error("a forgotten object's event is an echo")
	}
}

// TestWrittenHoldsEventsDuringTheWrite: the watch often delivers a
// write's event before its response. An event meanwhile is held back;
// when the response shows it was the write's own, nothing is missed; when
// it was another writer's, or the write failed, the write reports it
// missed.
func TestWrittenHoldsEventsDuringTheWrite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		event  string // resource version of the event meanwhile
		got    *corev1.Secret
		missed bool
	}{
		{"the write's own event", "10", object("10"), false},
		{"another writer's event", "9", object("10"), true},
		{"an event, and the write failed", "9", nil, true},
	} {
		var w Written
		w.begin(object(""))
		if !w.Echo(object(tc.event)) {
			t.Errorf("%s: an event during the write was not held back", tc.name)
		}
		var missed bool
		if tc.got != nil {
			missed = w.done(object(""), tc.got)
		} else {
			missed = w.done(object(""), nil) // a typed nil is not a nil client.Object
		}
		if missed != tc.missed {
			t.Errorf("%s: missed %v, want %v", tc.name, missed, tc.missed)
		}
		if w.Echo(object("12")) {
			t.Errorf("%s: an event after the write is held back", tc.name)
		}
	}
	// Another object's write holds nothing back of this one.
	var w Written
	w.begin(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other"}})
	if w.Echo(object("3")) {
		t.Error("another object's write held an event back")
	}
	// Nor does a write of another kind of the same name.
	w.begin(&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nova-etc"}})
	if w.Echo(object("3")) {
		t.Error("a Job's write held a Secret's event back")
	}
}

// TestWrittenDeletions: the deletion of a Job osk replaced within a pass
// is its own; when the Job was not gone at once, the deletion's event
// must start a pass, and the write reports whether it was dropped first.
func TestWrittenDeletions(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nova-db-sync", UID: "j1"}}
	var w Written
	w.expectDelete(job)
	if !w.Deleted(job) || !w.Deleted(job) {
		t.Error("osk's own deletion, seen by two handlers, is not osk's")
	}
	if !w.unexpectDelete(job) {
		t.Error("a deletion whose event was dropped is not reported")
	}
	if w.Deleted(job) {
		t.Error("a deletion taken back is still osk's")
	}
	w.expectDelete(job)
	if w.unexpectDelete(job) {
		t.Error("a deletion whose event has not come is reported dropped")
	}
	other := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x", UID: "j2"}}
	if w.Deleted(other) {
		t.Error("a deletion osk did not make is osk's")
	}
}

// TestUnservedIsAskedAgainAfterAMinute: a kind found not served is not
// asked about again within unservedRecheck, and is after.
func TestUnservedIsAskedAgainAfterAMinute(t *testing.T) {
	var u Unserved
	now := metav1.Now().Time
	if u.recently("PodMonitor", now) {
		t.Fatal("a kind never asked about is taken as not served")
	}
	u.note("PodMonitor", now)
	if !u.recently("PodMonitor", now.Add(unservedRecheck/2)) {
		t.Error("a kind found not served is asked about again at once")
	}
	if u.recently("PodMonitor", now.Add(unservedRecheck)) || u.recently("PrometheusRule", now) {
		t.Error("a kind is taken as not served past its recheck, or another kind with it")
	}
	var none *Unserved
	if none.recently("PodMonitor", now) {
		t.Error("without memory, a kind is taken as not served")
	}
}
