package admission

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestCephValidator checks that the webhook refuses an invalid
// CephDeployment as Invalid, naming each field, and lets a metadata-only
// change of a stored one through.
func TestCephValidator(t *testing.T) {
	d := &v1.CephDeployment{ObjectMeta: metav1.ObjectMeta{Name: "ceph", Generation: 1}, Spec: v1.CephDeploymentSpec{
		Nodes: []v1.CephNode{{Name: "n1", Roles: []v1.CephRole{"mon", "mgr", "osd"}}},
		Pools: []v1.CephPool{{Role: "images", CephPoolLayout: v1.CephPoolLayout{ErasureCoded: &v1.CephErasureCoding{DataChunks: 2, CodingChunks: 1}}}},
	}}
	_, err := CephValidator{}.ValidateCreate(t.Context(), d)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want Invalid", err)
	}
	for _, want := range []string{"spec.nodes[0].devices", "spec.pools[0].erasureCoded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if _, err := (CephValidator{}).ValidateUpdate(t.Context(), d, d.DeepCopy()); err != nil {
		t.Errorf("a metadata-only change was refused: %v", err)
	}
	d.Spec.Nodes[0].Devices.AllFree = true
	d.Spec.Pools[0].ErasureCoded = nil
	if _, err := (CephValidator{}).ValidateCreate(t.Context(), d); err != nil {
		t.Errorf("a valid CephDeployment was refused: %v", err)
	}
}
