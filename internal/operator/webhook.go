package operator

import (
	"crypto/tls"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/oskproject/osk/internal/admission"
)

// webhooks is the admission webhook's part of the operator: its server,
// and in CertSelf mode the keeper of its certificate.
type webhooks struct {
	server webhook.Server
	keeper *admission.CertKeeper
}

// newWebhooks prepares the webhook server; nothing when o.Port is 0.
func newWebhooks(config *rest.Config, scheme *runtime.Scheme, o WebhookOptions) (*webhooks, error) {
	if o.Port == 0 {
		return &webhooks{}, nil
	}
	opts := webhook.Options{Host: o.Host, Port: o.Port, CertDir: o.CertDir}
	switch o.CertMode {
	case CertManager:
		return &webhooks{server: webhook.NewServer(opts)}, nil
	case CertSelf, "":
	default:
		return nil, fmt.Errorf("webhook certificate mode %q: want %s or %s", o.CertMode, CertSelf, CertManager)
	}
	if o.Namespace == "" {
		return nil, fmt.Errorf("webhook certificate mode %s needs the namespace of its Secret", CertSelf)
	}
	c, err := client.New(config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating the webhook certificate client: %w", err)
	}
	hosts := o.Hosts
	if len(hosts) == 0 {
		svc := admission.ServiceName + "." + o.Namespace + ".svc"
		hosts = []string{svc, svc + ".cluster.local"}
	}
	k := &admission.CertKeeper{
		Client: c, Namespace: o.Namespace, Name: admission.SecretName, Hosts: hosts,
		MutatingConfig: admission.MutatingConfigName, ValidatingConfig: admission.ValidatingConfigName,
	}
	opts.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.GetCertificate = k.GetCertificate }}
	return &webhooks{server: webhook.NewServer(opts), keeper: k}, nil
}

// setup registers the webhooks and the certificate keeper with the
// manager.
func (w *webhooks) setup(mgr ctrl.Manager) error {
	if w.server == nil {
		return nil
	}
	if err := admission.Setup(mgr); err != nil {
		return fmt.Errorf("setting up the admission webhook: %w", err)
	}
	if err := admission.SetupCeph(mgr); err != nil {
		return fmt.Errorf("setting up the CephDeployment admission webhook: %w", err)
	}
	if w.keeper == nil {
		return nil
	}
	if err := mgr.Add(w.keeper); err != nil {
		return fmt.Errorf("adding the webhook certificate keeper: %w", err)
	}
	if err := mgr.AddReadyzCheck("webhook-certificate", w.keeper.Ready); err != nil {
		return fmt.Errorf("adding the webhook certificate readiness check: %w", err)
	}
	return nil
}
