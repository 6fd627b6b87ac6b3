// Package operator runs osk's controller manager: the reconcilers, leader
// election, metrics, and health and readiness endpoints.
package operator

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/oskproject/osk/api/v1alpha1"
	"github.com/oskproject/osk/internal/controllers"
	"github.com/oskproject/osk/internal/galera"
	"github.com/oskproject/osk/internal/lifecycle"
	"github.com/oskproject/osk/internal/monitoring"
	"github.com/oskproject/osk/internal/render"
)

// Options configure the operator.
type Options struct {
	// MetricsAddr serves /metrics ("0" turns it off).
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz.
	ProbeAddr string
	// PprofAddr serves Go's /debug/pprof profiles; off when empty or "0".
	PprofAddr string
	// LeaderElection makes one replica of several do the work.
	LeaderElection bool
	// LeaderElectionNamespace holds the lease; the in-cluster namespace
	// when empty.
	LeaderElectionNamespace string
	// Workers is how many deployments are reconciled at once.
	Workers int
	// Resync is how often every deployment is looked at again, whatever
	// happened, to catch drift no watch reports.
	Resync time.Duration
	// OskImage runs osk's own jobs and init containers.
	OskImage string
	// Webhook serves the admission webhook; off when its Port is 0.
	Webhook WebhookOptions
	// WebhookOnly runs the admission webhook without the controllers.
	WebhookOnly bool
}

// Webhook certificate modes.
const (
	// CertSelf: the operator makes and renews the certificate itself
	// (internal/admission.CertKeeper).
	CertSelf = "self"
	// CertManager: cert-manager writes the certificate into CertDir
	// (a mounted Secret) and injects the CA bundle; the operator only
	// reads the files, again whenever they change.
	CertManager = "cert-manager"
)

// WebhookOptions configure the admission webhook.
type WebhookOptions struct {
	// Port serves the webhook over TLS; 0 turns it off.
	Port int
	// Host is the address to listen on; every address when empty.
	Host string
	// CertMode is CertSelf or CertManager.
	CertMode string
	// CertDir holds tls.crt and tls.key in CertManager mode.
	CertDir string
	// Namespace holds the certificate Secret in CertSelf mode.
	Namespace string
	// Hosts are the names and addresses the self-made certificate is
	// for; the webhook Service's DNS names in Namespace when empty.
	Hosts []string
}

// Scheme returns the scheme of the operator: Kubernetes' kinds, osk's and
// the Prometheus Operator's that StackLight uses.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := monitoring.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Run runs the operator until ctx ends.
func Run(ctx context.Context, config *rest.Config, o Options) error {
	config = countRequests(config)
	scheme, err := Scheme()
	if err != nil {
		return fmt.Errorf("building the scheme: %w", err)
	}
	// The cache holds only what osk manages, the deployments and bundles,
	// and the Galera members' coordination records.
	managed := labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedBy})
	configMaps, err := labels.NewRequirement(render.LabelManagedBy, selection.In, []string{render.ManagedBy, galera.RecordManagedBy})
	if err != nil {
		return fmt.Errorf("selecting ConfigMaps: %w", err)
	}
	hooks, err := newWebhooks(config, scheme, o.Webhook)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		WebhookServer:                 hooks.server,
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.ProbeAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              "osk-operator.osk.dev",
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			SyncPeriod:           &o.Resync,
			DefaultLabelSelector: managed,
			// Server-side apply's field records are a good part of every
			// object, and osk reads none: at a thousand nodes, most of
			// the cache is DaemonSet pods.
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&v1.OpenStackDeployment{}: {Label: labels.Everything()},
				&v1.HelmBundle{}:          {Label: labels.Everything()},
				&v1.CephDeployment{}:      {Label: labels.Everything()},
				&corev1.ConfigMap{}:       {Label: labels.NewSelector().Add(*configMaps)},
				// Most of them are DaemonSet pods, whose specs repeat
				// their templates: the cache keeps what osk reads.
				&corev1.Pod{}: {Transform: lifecycle.SlimPod},
			},
		},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if !o.WebhookOnly {
		if err := setupControllers(mgr, o); err != nil {
			return err
		}
	}
	if err := hooks.setup(mgr); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("cache", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("cache not synced")
		}
		return nil
	}); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// setupControllers adds osk's reconcilers to the manager.
func setupControllers(mgr ctrl.Manager, o Options) error {
	r := &controllers.OpenStackDeploymentReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorderFor("osk"),
		Render:   render.Options{OskImage: o.OskImage},
	}
	if err := r.SetupWithManager(mgr, o.Workers); err != nil {
		return fmt.Errorf("setting up the OpenStackDeployment controller: %w", err)
	}
	if err := controllers.SetupHelmBundle(mgr, o.Workers); err != nil {
		return fmt.Errorf("setting up the HelmBundle controller: %w", err)
	}
	ceph := &controllers.CephDeploymentReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
	if err := ceph.SetupWithManager(mgr, o.Workers); err != nil {
		return fmt.Errorf("setting up the CephDeployment controller: %w", err)
	}
	return nil
}
