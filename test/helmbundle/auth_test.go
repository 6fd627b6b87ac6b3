package helmbundle_test

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/oskproject/osk/api/v1alpha1"
)

// TestAuthenticatedRepository installs from an HTTPS chart repository that
// wants a user and password, its CA and credentials read from Secrets,
// with values from a ConfigMap under the inline ones.
func TestAuthenticatedRepository(t *testing.T) {
	f := setup(t)
	dir, _ := packageCharts(t)
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "osk" || p != "s3cret" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	writeIndex(t, dir, srv.URL)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	f.createObject(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "repo-auth", Namespace: f.ns},
		Data: map[string][]byte{"username": []byte("osk"), "password": []byte("s3cret")}})
	f.createObject(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "repo-ca", Namespace: f.ns}, Data: map[string][]byte{"ca.crt": ca}})
	f.createObject(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-values", Namespace: f.ns},
		Data: map[string]string{"values.yaml": "message: from-configmap\nreplicas: 2\n"}})

	b := f.newBundle(srv.URL, rel("web", "app", "", map[string]any{"replicas": 1}))
	b.Spec.Repositories[0].CredentialsSecret, b.Spec.Repositories[0].CASecret = "repo-auth", "repo-ca"
	b.Spec.Releases[0].ValuesFrom = []v1.ValuesSource{{Kind: "ConfigMap", Name: "web-values"}, {Kind: "Secret", Name: "absent", Optional: true}}
	f.create(b)
	got := f.waitReady(b)
	if s := statusOf(got, "web"); s.ChartVersion != "0.2.0" {
		t.Errorf("web runs %s, want the latest, 0.2.0", s.ChartVersion)
	}
	f.wantConfig("web-config", "message", "from-configmap")
	if r := f.last("web"); r.Config["replicas"] != float64(1) {
		t.Errorf("replicas = %v, want the inline 1 over the ConfigMap's 2", r.Config["replicas"])
	}
}

// TestServiceAccount: Helm acts as the bundle's ServiceAccount. Without
// rights, the bundle reports the refusal and nothing is installed; once
// the account may administer the namespace, the release is installed.
func TestServiceAccount(t *testing.T) {
	f := setup(t)
	f.createObject(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: f.ns}})
	b := f.newBundle(httpRepo(t), rel("web", "app", "0.1.0", nil))
	b.Spec.ServiceAccountName = "deployer"
	f.create(b)
	f.waitBundle(b, "the bundle to report that the account may not act", func(b *v1.HelmBundle) error {
		ready := apimeta.FindStatusCondition(b.Status.Conditions, v1.ConditionReady)
		if !strings.Contains(ready.Message, "forbidden") || !strings.Contains(ready.Message, "system:serviceaccount:"+f.ns+":deployer") {
			return fmt.Errorf("Ready: %+v", ready)
		}
		return nil
	})
	if _, err := f.storage().Last("web"); err == nil {
		t.Error("release web was installed without rights")
	}
	f.createObject(&rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "deployer-admin", Namespace: f.ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "deployer", Namespace: f.ns}},
	})
	f.waitReady(b)
	f.wantConfig("web-config", "message", "hello")
}
