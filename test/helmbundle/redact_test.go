package helmbundle_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/helm"
	"github.com/oskproject/osk/internal/sandbox/sandboxtest"
)

// TestSecretValuesStayOutOfErrors: a release whose values come from a
// Secret fails, and the API server's refusal quotes the value. The
// release's lastError says what was refused with the value redacted; the
// namespace's leak check (sandboxtest) then finds the value in no Event,
// no status and no line of the operator's log.
func TestSecretValuesStayOutOfErrors(t *testing.T) {
	f := setup(t)
	// An invalid label value, which the API server quotes when it refuses
	// the Deployment's selector.
	secret := "Leak-" + rand.Text()[:12] + "!"
	f.createObject(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "web-secret", Namespace: f.ns, Labels: map[string]string{sandboxtest.LabelSecretValues: "true"}},
		Data:       map[string][]byte{"values.yaml": fmt.Appendf(nil, "track: %q\n", secret)},
	})
	b := f.newBundle(httpRepo(t), rel("web", "app", "", nil))
	b.Spec.Releases[0].ValuesFrom = []v1.ValuesSource{{Kind: "Secret", Name: "web-secret"}}
	f.create(b)
	got := f.waitBundle(b, "the install to fail", func(b *v1.HelmBundle) error {
		if s := statusOf(b, "web"); s.LastError == "" {
			return fmt.Errorf("web: %+v", s)
		}
		return nil
	})
	last := statusOf(got, "web").LastError
	if strings.Contains(last, secret) {
		t.Fatalf("lastError quotes the Secret's value")
	}
	if !strings.Contains(last, helm.Redacted) || !strings.Contains(last, "selector") {
		t.Errorf("lastError = %q, want the refused selector named and the value %s", last, helm.Redacted)
	}
}
