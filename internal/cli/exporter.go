package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/oskproject/osk/internal/monitoring/exporter"
)

// exporterPasswordEnv holds the exporter's Keystone password.
const exporterPasswordEnv = "OS_PASSWORD"

// exporterFlags are osk exporter's options besides the exporter's own.
type exporterFlags struct {
	listen, kubeconfig, namespace, deployment string
	secrets                                   []string
}

func newExporterCommand() *cobra.Command {
	cfg := exporter.Config{Auth: gophercloud.AuthOptions{DomainID: "default"}}
	var f exporterFlags
	cmd := &cobra.Command{
		Use:   "exporter",
		Short: "Serve Prometheus metrics of what only the OpenStack and Kubernetes APIs know",
		Long: `Log in to Keystone as a read-only user (password in $` + exporterPasswordEnv + `) and, on
every --interval, probe each internal and public endpoint of the
catalog, read the states of nova's and cinder's services and neutron's
agents, the hypervisors and placement's capacity, and the public
certificates' expiry; /metrics serves what each collector found last.
With --namespace, also the creation time of each
--secret (its metadata only) and the state of the OpenStackDeployment
--deployment, from the Kubernetes API (in-cluster, or --kubeconfig).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Auth.Password = os.Getenv(exporterPasswordEnv)
			if cfg.Auth.IdentityEndpoint == "" || cfg.Auth.Username == "" || cfg.Auth.Password == "" {
				return fmt.Errorf("--auth-url, --username and $%s are required", exporterPasswordEnv)
			}
			cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
			kube, err := f.kube()
			if err != nil {
				return err
			}
			cfg.Kube = kube
			e := exporter.New(cfg)
			return serveExporter(cmd, f.listen, e, e.Run, cfg.Log)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", ":9180", "address to serve /metrics and /healthz on")
	fl.StringVar(&cfg.Auth.IdentityEndpoint, "auth-url", "", "Keystone's v3 URL")
	fl.StringVar(&cfg.Auth.Username, "username", "", "the exporter's Keystone user (default domain)")
	fl.StringVar(&cfg.Auth.TenantName, "project", "service", "the project the user's role is on (default domain)")
	fl.StringVar(&cfg.Region, "region", "", "the region whose endpoints are probed; empty for all")
	fl.DurationVar(&cfg.Timeout, "timeout", 20*time.Second, "time limit of each collector's run")
	fl.DurationVar(&cfg.Interval, "interval", 15*time.Second, "how often each collector runs")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file; empty for the in-cluster configuration")
	fl.StringVar(&f.namespace, "namespace", "", "the OpenStackDeployment's namespace; empty leaves the Kubernetes metrics out")
	fl.StringVar(&f.deployment, "deployment", "", "the OpenStackDeployment's name")
	fl.StringArrayVar(&f.secrets, "secret", nil, "a credential Secret whose age is reported (repeat)")
	cmd.AddCommand(newMemcachedExporterCommand())
	return cmd
}

func newMemcachedExporterCommand() *cobra.Command {
	m := &exporter.Memcached{}
	var listen string
	cmd := &cobra.Command{
		Use:   "memcached",
		Short: "Serve Prometheus metrics of one memcached server (a sidecar)",
		Long: `On every scrape of /metrics, ask the memcached server at --address for
its stats and serve memcached_up and the main figures.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
			return serveExporter(cmd, listen, m, nil, m.Log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":9150", "address to serve /metrics and /healthz on")
	f.StringVar(&m.Address, "address", "127.0.0.1:11211", "the memcached server")
	f.DurationVar(&m.Timeout, "timeout", 3*time.Second, "time limit of one scrape")
	return cmd
}

// kube returns the Kubernetes collector, or nil without --namespace.
func (f exporterFlags) kube() (*exporter.Kube, error) {
	if f.namespace == "" {
		return nil, nil
	}
	if f.deployment == "" {
		return nil, fmt.Errorf("--deployment is required with --namespace")
	}
	var rc *rest.Config
	var err error
	if f.kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", f.kubeconfig)
	} else {
		rc, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes configuration: %w", err)
	}
	return exporter.NewKube(rc, f.namespace, f.deployment, f.secrets)
}

// serveExporter serves a collector's metrics until SIGTERM or SIGINT,
// running run, when set, in the background until then.
func serveExporter(cmd *cobra.Command, listen string, e prometheus.Collector, run func(context.Context), log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(e); err != nil {
		return fmt.Errorf("registering the exporter: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if run != nil {
		go run(ctx)
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("Serving metrics", "address", listen)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving metrics: %w", err)
	}
	return nil
}
