package apply

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestVerifiedRemembersUntilTheObjectOrTheWishChanges: an object found up
// to date is not compared again while its resource version and the
// applied hash wanted stay; either change compares it again.
func TestVerifiedRemembersUntilTheObjectOrTheWishChanges(t *testing.T) {
	desired := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Annotations: map[string]string{AnnotationAppliedHash: "h1"}},
		Data: map[string]string{"k": "v"}}
	live := desired.DeepCopy()
	live.UID, live.ResourceVersion = "u", "1"
	var v Verified
	if !v.upToDate(desired, live) {
		t.Fatal("an identical object is not up to date")
	}
	// The same version cannot hold other data in a real cluster: seeing it
	// still up to date shows the comparison was skipped.
	same := live.DeepCopy()
	same.Data["k"] = "drifted"
	if !v.upToDate(desired, same) {
		t.Error("the remembered verdict was not used")
	}
	edited := same.DeepCopy()
	edited.ResourceVersion = "2"
	if v.upToDate(desired, edited) {
		t.Error("a new version with drifted data is up to date")
	}
	wanted := desired.DeepCopy()
	wanted.Annotations[AnnotationAppliedHash] = "h2"
	wanted.Data["k"] = "new"
	if v.upToDate(wanted, live) {
		t.Error("a new wish is up to date with the old object")
	}
	v.Forget("u")
	if len(v.seen) != 0 {
		t.Errorf("Forget left %v", v.seen)
	}
}
