package credentials_test

import (
	"crypto/x509"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/credentials"
	"github.com/oskproject/osk/internal/pki"
)

// TestStoreKeepsStoredAndGeneratesMissing checks that stored values are
// used as they are and only what is missing is generated, once.
func TestStoreKeepsStoredAndGeneratesMissing(t *testing.T) {
	stored := corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nova-credentials"},
		Data: map[string][]byte{catalog.KeyDatabasePassword: []byte("kept")}}
	s := credentials.NewStore([]corev1.Secret{stored})
	if got := s.Value("nova-credentials", catalog.KeyDatabasePassword); got != "kept" {
		t.Errorf("stored value: got %q", got)
	}
	first := s.Value("nova-credentials", catalog.KeyMessagingPassword)
	if len(first) != 32 || s.Value("nova-credentials", catalog.KeyMessagingPassword) != first {
		t.Errorf("generated value %q is not 32 characters, or changed when asked again", first)
	}
	// A Job that mounts the Fernet key repository, which does not exist yet.
	job := &batchv1.Job{}
	job.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "k",
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: catalog.FernetKeysSecret}}}}
	if err := s.Require([]client.Object{job}); err != nil {
		t.Fatal(err)
	}
	changes := s.Changes()
	if len(changes) != 2 || changes[0].Secret != catalog.FernetKeysSecret || len(changes[0].Data) != 2 ||
		changes[1].Secret != "nova-credentials" || len(changes[1].Data) != 1 {
		t.Errorf("changes: %+v", changes)
	}
	if _, ok := changes[1].Data[catalog.KeyDatabasePassword]; ok {
		t.Error("a stored key is among the changes")
	}
}

// TestLibvirtCA checks that libvirt's CA key is generated as a CA bundle
// that signs certificates, a new one each time.
func TestLibvirtCA(t *testing.T) {
	a, err := credentials.Value(catalog.CredentialSecret("libvirt"), catalog.KeyLibvirtCA)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.ParseBundle(a)
	if err != nil {
		t.Fatalf("the generated CA: %v", err)
	}
	if _, _, err := ca.Issue(pki.Request{CommonName: "x", Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}); err != nil {
		t.Errorf("the generated CA signs nothing: %v", err)
	}
	b, _ := credentials.Value(catalog.CredentialSecret("libvirt"), catalog.KeyLibvirtCA)
	if string(a) == string(b) {
		t.Error("two generated CAs are the same")
	}
}
