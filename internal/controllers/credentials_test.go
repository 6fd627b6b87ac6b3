package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/catalog"
	"github.com/oskproject/osk/internal/credentials"
)

// TestWriteCredentialsRenews checks that a pass adds new keys, replaces a
// key only when the store renewed it (an internal API's certificate), and
// otherwise refuses to overwrite a value it did not see.
func TestWriteCredentialsRenews(t *testing.T) {
	key := catalog.CertificateKey("keystone-api.openstack.svc.cluster.local")
	stored := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: catalog.InternalTLSSecret, Namespace: "openstack"},
		Data: map[string][]byte{key: []byte("old"), catalog.KeyInternalCA: []byte("ca")}}
	c := fake.NewClientBuilder().WithObjects(stored).Build()
	p := &pass{r: &OpenStackDeploymentReconciler{Client: c, APIReader: c},
		d: &v1.OpenStackDeployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "openstack"}}}
	read := func() map[string][]byte {
		s := &corev1.Secret{}
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(stored), s); err != nil {
			t.Fatal(err)
		}
		return s.Data
	}
	if err := p.writeCredentials(t.Context(), credentials.Change{Secret: stored.Name, Data: map[string][]byte{key: []byte("new")}}); err == nil {
		t.Fatal("a key the store did not renew was overwritten")
	}
	renewed := credentials.Change{Secret: stored.Name, Data: map[string][]byte{key: []byte("new"), "other.pem": []byte("added")}, Renewed: []string{key}}
	if err := p.writeCredentials(t.Context(), renewed); err != nil {
		t.Fatalf("writing a renewed certificate: %v", err)
	}
	got := read()
	if string(got[key]) != "new" || string(got["other.pem"]) != "added" || string(got[catalog.KeyInternalCA]) != "ca" {
		t.Errorf("the Secret holds %q; want the renewed key replaced, the new one added, the CA kept", got)
	}
}
