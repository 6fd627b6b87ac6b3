package admission

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/oskproject/osk/internal/pki"
)

var (
	t0    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hosts = []string{"osk-webhook.osk-system.svc", "127.0.0.1"}
	short = Lifetimes{CA: 300 * time.Hour, Serving: 30 * time.Hour}
)

// verify checks that the data's serving certificate is trusted by its CA
// bundle for every host at now.
func verify(t *testing.T, data map[string][]byte, now time.Time) *x509.Certificate {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle(data)) {
		t.Fatal("the CA bundle holds no certificate")
	}
	c, err := pki.ParseCert(data[keyCert])
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if _, err := c.Verify(x509.VerifyOptions{DNSName: h, Roots: roots, CurrentTime: now}); err != nil {
			t.Errorf("the serving certificate is not trusted for %s: %v", h, err)
		}
	}
	return c
}

func renew(t *testing.T, data map[string][]byte, now time.Time, hosts []string) (map[string][]byte, bool) {
	t.Helper()
	out, changed, err := renewCerts(data, hosts, now, short)
	if err != nil {
		t.Fatal(err)
	}
	return out, changed
}

func TestRenewCerts(t *testing.T) {
	first, changed := renew(t, nil, t0, hosts)
	if !changed || first[keyCAKey] == nil || first[keyKey] == nil {
		t.Fatalf("an empty Secret got no CA and certificate: %v", changed)
	}
	verify(t, first, t0)
	if block, _ := pem.Decode(first[keyKey]); block == nil || block.Type != "EC PRIVATE KEY" {
		t.Fatal("the serving key is not an EC key")
	}

	t.Run("nothing due changes nothing", func(t *testing.T) {
		if _, changed := renew(t, first, t0.Add(19*time.Hour), hosts); changed {
			t.Error("renewed with two thirds of the lifetime left")
		}
	})
	t.Run("the serving certificate is renewed with a third left", func(t *testing.T) {
		now := t0.Add(21 * time.Hour)
		out, changed := renew(t, first, now, hosts)
		if !changed || string(out[keyCA]) != string(first[keyCA]) || string(out[keyCert]) == string(first[keyCert]) {
			t.Fatal("want a new serving certificate from the same CA")
		}
		verify(t, out, now)
	})
	t.Run("new hosts get a new certificate", func(t *testing.T) {
		out, changed := renew(t, first, t0, []string{"other.svc"})
		if c, _ := pki.ParseCert(out[keyCert]); !changed || c.DNSNames[0] != "other.svc" {
			t.Fatal("the certificate was not reissued for the new host")
		}
	})
	t.Run("the CA is renewed with a third left and the previous one kept", func(t *testing.T) {
		now := t0.Add(201 * time.Hour)
		out, changed := renew(t, first, now, hosts)
		if !changed || string(out[keyCA]) == string(first[keyCA]) || string(out[keyPreviousCA]) != string(first[keyCA]) {
			t.Fatal("want a new CA and the previous one in the bundle")
		}
		verify(t, out, now)
		later, _ := renew(t, out, t0.Add(301*time.Hour), hosts)
		if _, kept := later[keyPreviousCA]; kept {
			t.Error("the expired previous CA is still in the bundle")
		}
	})
	t.Run("a broken Secret is repaired", func(t *testing.T) {
		broken := map[string][]byte{keyCA: first[keyCA], keyCAKey: []byte("junk"), keyCert: first[keyCert], keyKey: first[keyKey]}
		out, changed := renew(t, broken, t0, hosts)
		if !changed || string(out[keyCA]) == string(first[keyCA]) {
			t.Fatal("a CA without its key was kept")
		}
		verify(t, out, t0)
	})
}

func TestCertKeeperEnsure(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	hook := func(name string) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{Name: name}
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: ValidatingConfigName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{hook("a.osk.dev"), hook("b.osk.dev")}}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: MutatingConfigName},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "m.osk.dev"}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(vwc, mwc).Build()
	k := &CertKeeper{Client: c, Namespace: "osk-system", Name: SecretName, Hosts: hosts,
		MutatingConfig: MutatingConfigName, ValidatingConfig: ValidatingConfigName, Now: func() time.Time { return t0 }}
	if err := k.Ready(nil); err == nil {
		t.Fatal("ready before a certificate was made")
	}
	ctx := context.Background()
	if err := k.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "osk-system", Name: SecretName}, s); err != nil {
		t.Fatal(err)
	}
	verify(t, s.Data, t0)
	if err := k.Ready(nil); err != nil {
		t.Errorf("not ready after Ensure: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(vwc), vwc); err != nil {
		t.Fatal(err)
	}
	for _, w := range vwc.Webhooks {
		if string(w.ClientConfig.CABundle) != string(caBundle(s.Data)) {
			t.Errorf("webhook %s has no CA bundle", w.Name)
		}
	}

	// A second pass with nothing due writes nothing.
	version := s.ResourceVersion
	if err := k.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(s), s); err != nil || s.ResourceVersion != version {
		t.Errorf("the Secret was written again (%v)", err)
	}
}
