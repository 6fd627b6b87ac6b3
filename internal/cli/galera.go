package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oskproject/osk/internal/galera"
)

// galeraPasswordEnv holds the admin's (root's) password of the members;
// galeraSSTPasswordEnv the SST user's.
const (
	galeraPasswordEnv    = "MARIADB_ROOT_PASSWORD"
	galeraSSTPasswordEnv = "MARIADB_SST_PASSWORD"
)

func newGaleraCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "galera",
		Short: "Entrypoint and probes of osk's MariaDB Galera members",
	}
	cmd.AddCommand(newGaleraStartCommand(), newGaleraProbeCommand(),
		newGaleraBackupAgentCommand(), newGaleraBackupCommand(), newGaleraRestoreCommand())
	return cmd
}

func newGaleraStartCommand() *cobra.Command {
	cfg := galera.Config{Mariadbd: "mariadbd", InstallDB: "mariadb-install-db", SQL: galera.SQL{User: "root"}}
	var members, namespace, name, kubeconfig string
	var galeraPort int
	cmd := &cobra.Command{
		Use:   "start [flags] [-- mariadbd options]",
		Short: "Decide how this member starts (bootstrap or join), then run mariadbd",
		Long: `Start a Galera member without a person: read the data directory
(grastate.dat, mariadbd --wsrep-recover), publish the position in the
coordination record (a ConfigMap), join when another member runs, and
otherwise let the member with the most recent committed position
bootstrap once every member reported (or a majority, after
--quorum-timeout). Then run mariadbd as a child, forward signals to it and
exit with its code. The admin's password comes from MARIADB_ROOT_PASSWORD;
a new cluster also gets the state-transfer user "sst" when
MARIADB_SST_PASSWORD is set. Without --members, the members are the
StatefulSet's pods: $MEMBERS (their names) at <name>.$PEERS (the headless
Service's domain), on --galera-port.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if members == "" {
				members = galera.MembersFromPeers(os.Getenv("MEMBERS"), os.Getenv("PEERS"), galeraPort)
			}
			if cfg.Members, err = galera.ParseMembers(members); err != nil {
				return fmt.Errorf("--members: %w", err)
			}
			cfg.ExtraArgs, cfg.SQL.Password, cfg.SSTPassword = args, os.Getenv(galeraPasswordEnv), os.Getenv(galeraSSTPasswordEnv)
			cfg.Log = slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("member", cfg.Self)
			ctrl.SetLogger(logr.FromSlogHandler(cfg.Log.Handler()))
			if cfg.Store, err = galeraStore(kubeconfig, namespace, name); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			code, err := galera.NewStarter(cfg).Run(ctx)
			if err != nil && ctx.Err() != nil {
				cfg.Log.Info("Stopped by a signal before mariadbd started")
				return exitError{code: 143}
			}
			if err != nil {
				cfg.Log.Error("Not starting mariadbd", "error", err)
				return exitError{code: 1}
			}
			return exitError{code: code}
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Self, "name", os.Getenv("POD_NAME"), "this member's name (default $POD_NAME)")
	f.StringVar(&members, "members", "", "every member as name=host:galera-port, comma-separated, in ordinal order (default: from $MEMBERS and $PEERS)")
	f.IntVar(&galeraPort, "galera-port", 4567, "the members' Galera port, when --members is not given")
	f.StringVar(&cfg.DefaultsFile, "defaults-file", "/etc/mysql/my.cnf", "mariadbd's --defaults-file")
	f.StringVar(&cfg.DataDir, "datadir", "/var/lib/mysql", "mariadbd's --datadir")
	f.StringVar(&cfg.User, "user", "", "mariadbd's --user, when set")
	f.StringVar(&cfg.Mariadbd, "mariadbd", cfg.Mariadbd, "the mariadbd program")
	f.StringVar(&cfg.InstallDB, "install-db", cfg.InstallDB, "the mariadb-install-db program")
	f.StringVar(&cfg.SQL.Address, "mysql-address", "127.0.0.1:3306", "this member's MySQL port, to see it Synced")
	f.StringVar(&cfg.SQL.User, "admin-user", cfg.SQL.User, "the admin user (password in $"+galeraPasswordEnv+")")
	f.StringVar(&cfg.StatusFile, "status-file", "/tmp/osk-galera-status.json", "where the liveness probe finds the heartbeat")
	f.StringVar(&namespace, "record-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the coordination record (default $POD_NAMESPACE)")
	f.StringVar(&name, "record-name", "", "name of the coordination record (a ConfigMap)")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster, else $KUBECONFIG)")
	f.DurationVar(&cfg.Interval, "interval", 2*time.Second, "how often a waiting member looks again")
	f.DurationVar(&cfg.Freshness, "freshness", 30*time.Second, "how old a member's published position may be and still count")
	f.DurationVar(&cfg.QuorumTimeout, "quorum-timeout", 0, "after this long, a majority that reported bootstraps without the others; 0 waits for every member")
	_ = cmd.MarkFlagRequired("record-name")
	return cmd
}

// galeraStore returns the coordination record's store.
func galeraStore(kubeconfig, namespace, name string) (galera.Store, error) {
	if kubeconfig != "" {
		if err := os.Setenv("KUBECONFIG", kubeconfig); err != nil {
			return nil, fmt.Errorf("setting KUBECONFIG: %w", err)
		}
	}
	if namespace == "" {
		return nil, fmt.Errorf("--record-namespace (or $POD_NAMESPACE) is required")
	}
	config, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the Kubernetes configuration: %w", err)
	}
	c, err := client.New(config, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	return galera.ConfigMapStore{Client: c, Namespace: namespace, Name: name}, nil
}

func newGaleraProbeCommand() *cobra.Command {
	s := galera.SQL{User: "root"}
	var statusFile string
	cmd := &cobra.Command{
		Use:       "probe ready|live",
		Short:     "Readiness (Synced, Primary, writable) and liveness (alive, state transfer included) of a member",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"ready", "live"},
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Password = os.Getenv(galeraPasswordEnv)
			var err error
			switch args[0] {
			case "ready":
				err = galera.Ready(cmd.Context(), s)
			case "live":
				err = galera.Live(cmd.Context(), statusFile, s.Address, time.Now())
			default:
				return fmt.Errorf("probe %q: want ready or live", args[0])
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.Address, "mysql-address", "127.0.0.1:3306", "the member's MySQL port")
	f.StringVar(&s.User, "admin-user", s.User, "the admin user (password in $"+galeraPasswordEnv+")")
	f.StringVar(&statusFile, "status-file", "/tmp/osk-galera-status.json", "the status file of osk galera start")
	return cmd
}
