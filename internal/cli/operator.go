package cli

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oskproject/osk/internal/operator"
)

func newOperatorCommand() *cobra.Command {
	o := operator.Options{}
	var kubeconfig string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run the controller that turns OpenStackDeployments into running clouds",
		Long: `Run osk's operator: it watches OpenStackDeployment objects and makes the
cluster run what they describe, in dependency order, and keeps it so.
In a cluster it uses its service account; elsewhere --kubeconfig or
$KUBECONFIG. Logs are JSON lines on standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
			if kubeconfig != "" {
				if err := os.Setenv("KUBECONFIG", kubeconfig); err != nil {
					return err
				}
			}
			config, err := ctrl.GetConfig()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return operator.Run(ctx, config, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to manage (default: in-cluster or $KUBECONFIG)")
	f.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", `address of /metrics ("0" turns it off)`)
	f.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	f.StringVar(&o.PprofAddr, "pprof-bind-address", "", "address of Go's /debug/pprof profiles (default: off)")
	f.BoolVar(&o.LeaderElection, "leader-elect", false, "elect a leader among several operator replicas")
	f.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader lease (default: the operator's own)")
	f.IntVar(&o.Workers, "workers", 4, "deployments reconciled at once")
	f.DurationVar(&o.Resync, "resync", 10*time.Minute, "how often every deployment is looked at again regardless of events")
	f.StringVar(&o.OskImage, "osk-image", os.Getenv("OSK_IMAGE"), "image of osk's own jobs and init containers (default: $OSK_IMAGE, else the catalog's)")
	webhookFlags(f, &o.Webhook)
	f.BoolVar(&o.WebhookOnly, "webhook-only", false, "serve only the admission webhook, without the controllers")
	f.BoolVar(&verbose, "verbose", false, "log debug messages")
	return cmd
}

// webhookFlags are the admission webhook's flags.
func webhookFlags(f *pflag.FlagSet, w *operator.WebhookOptions) {
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "osk-system"
	}
	f.IntVar(&w.Port, "webhook-port", 0, "port of the admission webhook (0 turns it off; config/webhook uses 9443)")
	f.StringVar(&w.Host, "webhook-host", "", "address the admission webhook listens on (default: every address)")
	f.StringVar(&w.CertMode, "webhook-cert-mode", operator.CertSelf,
		`"self": make and renew the webhook's certificate and CA bundle; "cert-manager": read them from --webhook-cert-dir`)
	f.StringVar(&w.CertDir, "webhook-cert-dir", "/var/run/osk/webhook-certs", "directory of tls.crt and tls.key in cert-manager mode")
	f.StringVar(&w.Namespace, "webhook-namespace", ns, "namespace of the webhook Service and certificate Secret (default: $POD_NAMESPACE, else osk-system)")
	f.StringSliceVar(&w.Hosts, "webhook-hosts", nil, "names and addresses of the self-made certificate (default: the webhook Service's DNS names)")
}
