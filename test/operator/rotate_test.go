package operator_test

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestRotateSecret rotates a key repository kept in a Secret on the API
// server, as the keystone-rotate-keys CronJob does.
func TestRotateSecret(t *testing.T) {
	env := sandboxtest.Get(t)
	c := env.Client()
	ns := env.Namespace(t)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keys", Namespace: ns},
		Data: map[string][]byte{"0": []byte("staged"), "1": []byte("primary")}}
	if err := c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := jobs.RotateSecret(t.Context(), c, ns, "keys", 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(s), s); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(s.Data)); !slices.Equal(got, []string{"0", "3", "4"}) {
		t.Errorf("keys after three rotations: %v, want [0 3 4]", got)
	}
	if string(s.Data["0"]) == "staged" || len(s.Data["0"]) != 44 {
		t.Errorf("staged key %q is not a new Fernet key", s.Data["0"])
	}
}
