package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Intervals of the certificate keeper.
const (
	// CheckInterval is how often the keeper looks at the certificate, the
	// Secret and the webhook configurations when all is well.
	CheckInterval = 10 * time.Minute
	// RetryInterval is how soon it tries again after a failure.
	RetryInterval = 10 * time.Second
)

// SecretName is the default name of the Secret holding the webhook's CA
// and serving certificate.
const SecretName = "osk-webhook-cert"

// CertKeeper creates and renews the webhook's serving certificate itself:
// a self-signed ECDSA P-256 CA and a serving certificate it signs, both
// stored in one Secret (the CA key never leaves it), the serving pair
// handed to the webhook server from memory, and the CA put into the
// caBundle of osk's webhook configurations. Every operator replica runs
// one: the first to find the Secret missing or due creates or renews it
// (optimistic concurrency settles races), the others load it.
type CertKeeper struct {
	// Client reads and writes the API server directly, not a cache.
	Client client.Client
	// Namespace and Name name the Secret.
	Namespace, Name string
	// Hosts are the DNS names and IP addresses the serving certificate
	// is for.
	Hosts []string
	// MutatingConfig and ValidatingConfig name the webhook
	// configurations whose caBundle the keeper sets (MutatingConfigName
	// and ValidatingConfigName); an empty name is left alone.
	MutatingConfig, ValidatingConfig string
	// Lifetimes of the certificates; DefaultLifetimes when zero.
	Lifetimes Lifetimes
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	current atomic.Pointer[tls.Certificate]
}

// NeedLeaderElection is false: every replica serves the webhook.
func (k *CertKeeper) NeedLeaderElection() bool { return false }

// Start keeps the certificate until ctx ends.
func (k *CertKeeper) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithValues("secret", k.Namespace+"/"+k.Name)
	for {
		wait := CheckInterval
		if err := k.Ensure(ctx); err != nil {
			logger.Error(err, "Keeping the webhook certificate")
			wait = RetryInterval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Ensure makes the Secret hold a current CA and serving certificate,
// serves that certificate, and puts the CA bundle into the webhook
// configurations.
func (k *CertKeeper) Ensure(ctx context.Context) error {
	data, err := k.ensureSecret(ctx)
	if err != nil {
		return err
	}
	pair, err := tls.X509KeyPair(data[keyCert], data[keyKey])
	if err != nil {
		return fmt.Errorf("loading the webhook serving certificate: %w", err)
	}
	k.current.Store(&pair)
	return k.injectCABundle(ctx, caBundle(data))
}

// GetCertificate serves the current certificate; set it as the webhook
// server's tls.Config.GetCertificate.
func (k *CertKeeper) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := k.current.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("the webhook serving certificate is not ready yet")
}

// Ready is a readiness check: ready once a certificate is served.
func (k *CertKeeper) Ready(*http.Request) error {
	_, err := k.GetCertificate(nil)
	return err
}

// ensureSecret reads the Secret, renews what is due in it, and writes it
// back when something changed.
func (k *CertKeeper) ensureSecret(ctx context.Context) (map[string][]byte, error) {
	s := &corev1.Secret{}
	err := k.Client.Get(ctx, client.ObjectKey{Namespace: k.Namespace, Name: k.Name}, s)
	missing := apierrors.IsNotFound(err)
	if err != nil && !missing {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", k.Namespace, k.Name, err)
	}
	now, lifetimes := k.clock(), k.Lifetimes
	if lifetimes == (Lifetimes{}) {
		lifetimes = DefaultLifetimes
	}
	data, changed, err := renewCerts(s.Data, k.Hosts, now, lifetimes)
	if err != nil || !changed {
		return data, err
	}
	s.Data = data
	if missing {
		s.ObjectMeta = metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name, Labels: map[string]string{"app.kubernetes.io/name": ServiceName}}
		s.Type = corev1.SecretTypeTLS
		err = k.Client.Create(ctx, s)
	} else {
		err = k.Client.Update(ctx, s)
	}
	if err != nil {
		return nil, fmt.Errorf("storing the webhook certificate in Secret %s/%s: %w", k.Namespace, k.Name, err)
	}
	log.FromContext(ctx).Info("Stored a new webhook certificate", "secret", k.Namespace+"/"+k.Name, "hosts", k.Hosts)
	return data, nil
}

// injectCABundle sets the caBundle of every webhook of osk's two webhook
// configurations, writing only what changed.
func (k *CertKeeper) injectCABundle(ctx context.Context, bundle []byte) error {
	configs := map[string]client.Object{
		k.MutatingConfig:   &admissionregistrationv1.MutatingWebhookConfiguration{},
		k.ValidatingConfig: &admissionregistrationv1.ValidatingWebhookConfiguration{},
	}
	for name, obj := range configs {
		if name == "" {
			continue
		}
		if err := k.Client.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
			return fmt.Errorf("reading webhook configuration %s: %w", name, err)
		}
		if !setCABundle(obj, bundle) {
			continue
		}
		if err := k.Client.Update(ctx, obj); err != nil {
			return fmt.Errorf("setting the caBundle of webhook configuration %s: %w", name, err)
		}
	}
	return nil
}

// setCABundle sets the caBundle of every webhook of a configuration and
// reports whether one changed.
func setCABundle(obj client.Object, bundle []byte) bool {
	var configs []*admissionregistrationv1.WebhookClientConfig
	switch c := obj.(type) {
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		for i := range c.Webhooks {
			configs = append(configs, &c.Webhooks[i].ClientConfig)
		}
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		for i := range c.Webhooks {
			configs = append(configs, &c.Webhooks[i].ClientConfig)
		}
	}
	changed := false
	for _, cc := range configs {
		changed = changed || !bytes.Equal(cc.CABundle, bundle)
		cc.CABundle = bundle
	}
	return changed
}

func (k *CertKeeper) clock() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// CABundlesInstalled returns nil once every webhook of osk's two webhook
// configurations carries a CA bundle, and otherwise says what is missing:
// until then the API server cannot call the webhook.
func CABundlesInstalled(ctx context.Context, c client.Reader) error {
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.Get(ctx, client.ObjectKey{Name: MutatingConfigName}, mwc); err != nil {
		return err
	}
	if err := c.Get(ctx, client.ObjectKey{Name: ValidatingConfigName}, vwc); err != nil {
		return err
	}
	var configs []admissionregistrationv1.WebhookClientConfig
	for _, w := range mwc.Webhooks {
		configs = append(configs, w.ClientConfig)
	}
	for _, w := range vwc.Webhooks {
		configs = append(configs, w.ClientConfig)
	}
	for _, cc := range configs {
		if !bytes.Contains(cc.CABundle, []byte("BEGIN CERTIFICATE")) {
			return errors.New("a webhook has no CA bundle yet")
		}
	}
	return nil
}
