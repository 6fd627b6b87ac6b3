package apply

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestOwnerReferenceStaysInItsNamespace checks that an object in another
// namespace than its owner's (the node agents') is the owner's by the
// label alone: an owner reference cannot cross namespaces.
func TestOwnerReferenceStaysInItsNamespace(t *testing.T) {
	owner := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cloud", Namespace: "openstack", UID: "uid-1"}}
	a := &Applier{Owner: owner, Stamps: &Stamps{}}
	home := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "openstack"}}
	away := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "nova-compute", Namespace: "openstack-agents"}}
	for _, o := range []*appsv1.DaemonSet{home, away} {
		if err := a.prepare(o); err != nil {
			t.Fatal(err)
		}
		if o.Labels[LabelOwner] != "uid-1" {
			t.Errorf("%s/%s has owner label %q", o.Namespace, o.Name, o.Labels[LabelOwner])
		}
	}
	if len(home.OwnerReferences) != 1 || len(away.OwnerReferences) != 0 {
		t.Errorf("owner references: %d in the owner's namespace (want 1), %d in another (want 0)", len(home.OwnerReferences), len(away.OwnerReferences))
	}
}
