package helm

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestValuesFromSecretsAreRedacted checks that the strings a release's
// values take from a Secret, and only those, are redacted from its errors,
// and that a Secret holding bad YAML is refused without quoting it.
func TestValuesFromSecretsAreRedacted(t *testing.T) {
	reader := fake.NewClientBuilder().WithObjects(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "vals"},
			Data: map[string][]byte{"values.yaml": []byte("db:\n  password: hunter2-long\n  users: [alice-secret]\nport: 5432\n")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bad"},
			Data: map[string][]byte{"values.yaml": []byte("- not: a map but a list holding topsecret-value")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "plain"},
			Data: map[string]string{"values.yaml": "message: visible-text\n"}},
	).Build()
	r := &Resolver{Reader: reader}
	_, secrets, err := r.values(t.Context(), "ns", v1.HelmRelease{ValuesFrom: []v1.ValuesSource{
		{Kind: "Secret", Name: "vals"}, {Kind: "ConfigMap", Name: "plain"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := Desired{Secrets: secrets}
	cause := errors.New(`Deployment "web" is invalid: hunter2-long, alice-secret and visible-text`)
	got := d.redact(cause)
	if want := `Deployment "web" is invalid: [redacted], [redacted] and visible-text`; got.Error() != want {
		t.Errorf("redacted error = %q, want %q", got, want)
	}
	if !errors.Is(got, cause) {
		t.Error("the redacted error no longer unwraps to its cause")
	}
	if d.redact(nil) != nil {
		t.Error("redact(nil) is not nil")
	}

	_, _, err = r.values(t.Context(), "ns", v1.HelmRelease{ValuesFrom: []v1.ValuesSource{{Kind: "Secret", Name: "bad"}}})
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("a Secret of bad YAML gave %v, want an error that does not quote it", err)
	}
}

// TestRedactLongestFirst checks that a secret containing another is
// replaced whole.
func TestRedactLongestFirst(t *testing.T) {
	if got := redactString("pass=abcd-efgh", []string{"abcd", "abcd-efgh"}); got != "pass="+Redacted {
		t.Errorf("got %q", got)
	}
}
