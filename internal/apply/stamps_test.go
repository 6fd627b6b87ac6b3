package apply

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStamps checks that a pass re-stamps only what it has not stamped
// before: the same rendered object keeps its stamp without a new hash, a
// new object (another rendering, or a changed copy) gets its own, and
// what a pass no longer applies is forgotten.
func TestStamps(t *testing.T) {
	owner := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cloud", Namespace: "ns", UID: "uid-1"}}
	stamps := &Stamps{}
	pass := func(objs ...*appsv1.Deployment) []string {
		a := &Applier{Owner: owner, Stamps: stamps}
		var hashes []string
		for _, o := range objs {
			if err := a.prepare(o); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, o.Annotations[AnnotationAppliedHash])
		}
		a.Remember()
		return hashes
	}
	api := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "ns"}}
	first := pass(api)[0]
	if first == "" || api.Labels[LabelOwner] != "uid-1" || len(api.OwnerReferences) != 1 {
		t.Fatalf("first pass: stamp %q, labels %v, owners %v", first, api.Labels, api.OwnerReferences)
	}
	// The contract: rendered objects do not change after rendering. A
	// change behind the stamp's back shows that the second pass reused it.
	api.Spec.Replicas = new(int32)
	if got := pass(api)[0]; got != first {
		t.Errorf("second pass re-stamped the same object: %q, want %q", got, first)
	}
	changed := api.DeepCopy()
	*changed.Spec.Replicas = 3
	if got := pass(changed)[0]; got == first {
		t.Errorf("a changed copy kept the stamp %q", got)
	}
	// api was not applied by the last pass: it is forgotten and hashed
	// again, now with the change.
	if got := pass(api)[0]; got == first {
		t.Errorf("an object the last pass did not apply kept its stamp %q", got)
	}
	stamps.Forget("uid-1")
	if len(stamps.by) != 0 {
		t.Errorf("Forget left %d owners", len(stamps.by))
	}
}
