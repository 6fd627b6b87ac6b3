package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/oskproject/osk/internal/galera"
)

// galeraBackupTokenEnv holds the token the backup jobs present to the
// members' backup agents.
const galeraBackupTokenEnv = "MARIADB_BACKUP_TOKEN"

// galeraLog logs JSON lines to standard error.
func galeraLog() *slog.Logger { return slog.New(slog.NewJSONHandler(os.Stderr, nil)) }

func newGaleraBackupAgentCommand() *cobra.Command {
	a := &galera.Agent{Mariabackup: "mariabackup", SQL: galera.SQL{User: "root"}}
	var listen string
	cmd := &cobra.Command{
		Use:   "backup-agent",
		Short: "Serve physical backups (mariabackup) of the member this runs beside",
		Long: `Listen for backup requests of osk galera backup and answer each with a
mariabackup --backup stream of this member's data directory, full or
incremental from an LSN, while the member serves. Callers present the
token in $` + galeraBackupTokenEnv + `; mariabackup logs in as --admin-user with the
password in $` + galeraPasswordEnv + `.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.Token, a.SQL.Password, a.Log = os.Getenv(galeraBackupTokenEnv), os.Getenv(galeraPasswordEnv), galeraLog()
			if a.Token == "" {
				return fmt.Errorf("$%s is required", galeraBackupTokenEnv)
			}
			srv := &http.Server{Addr: listen, Handler: a, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			go func() {
				<-ctx.Done()
				_ = srv.Close()
			}()
			a.Log.Info("Serving backups", "address", listen)
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serving backups: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":4445", "address to serve backups on")
	f.StringVar(&a.DefaultsFile, "defaults-file", "/etc/mysql/my.cnf", "the member's --defaults-file")
	f.StringVar(&a.DataDir, "datadir", "/var/lib/mysql", "the member's data directory")
	f.StringVar(&a.Mariabackup, "mariabackup", a.Mariabackup, "the mariabackup program")
	f.StringVar(&a.SQL.Address, "mysql-address", "127.0.0.1:3306", "the member's MySQL port")
	f.StringVar(&a.SQL.User, "admin-user", a.SQL.User, "the user mariabackup logs in as")
	return cmd
}

func newGaleraBackupCommand() *cobra.Command {
	j := &galera.BackupJob{Kind: galera.BackupFull, Client: &http.Client{}, Now: time.Now}
	var agents string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Take a full or incremental physical backup of the Galera cluster into a directory",
		Long: `Ask the members' backup agents (osk galera backup-agent) for a backup and
store it in --dir as <time>-<kind>/backup.xbstream with its description
(osk-backup.json). An incremental backup builds on the last stored backup
and comes from its member (InnoDB's LSNs are a member's own); when there
is none, or that member cannot take it, the backup is full. Then only the
last --keep backups are kept, with those they build on.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if j.Agents, err = galera.ParseMembers(agents); err != nil {
				return fmt.Errorf("--agents: %w", err)
			}
			if j.Kind != galera.BackupFull && j.Kind != galera.BackupIncremental {
				return fmt.Errorf("--kind %q: want full or incremental", j.Kind)
			}
			j.Token, j.Log = os.Getenv(galeraBackupTokenEnv), galeraLog()
			_, err = j.Run(cmd.Context())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&j.Dir, "dir", "/backup", "the backup volume")
	f.StringVar(&j.Kind, "kind", j.Kind, "full or incremental")
	f.IntVar(&j.Keep, "keep", 10, "how many backups to keep")
	f.StringVar(&agents, "agents", "", "every member's agent as name=http://host:port, comma-separated, in the order to ask them")
	_ = cmd.MarkFlagRequired("agents")
	return cmd
}

func newGaleraRestoreCommand() *cobra.Command {
	r := &galera.Restore{Mariabackup: "mariabackup", Mbstream: "mbstream"}
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "Restore a whole database from a backup into one member's empty data directory",
		Long: `Prepare a backup of osk galera backup (with the full and incremental
backups it builds on) and copy it into a member's empty data directory,
with grastate.dat at the backup's position.

A whole-database restore: stop every member, empty every member's data
directory, restore into one of them (for example mariadb-server-0's), then
start the members. The restored member is the only one with data, so it
bootstraps the cluster and the others join it by state transfer. The
backup must be of the cluster the coordination record remembers; to
restore another cluster's backup, delete the record first.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r.Log = galeraLog()
			if r.WorkDir == "" {
				r.WorkDir = os.TempDir()
			}
			return r.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.From, "from", "", "the backup's directory, <dir>/<time>-<kind>")
	f.StringVar(&r.DataDir, "datadir", "/var/lib/mysql", "the member's data directory (empty)")
	f.StringVar(&r.DefaultsFile, "defaults-file", "", "the member's --defaults-file, for mariabackup --copy-back")
	f.StringVar(&r.User, "user", "", "the user that owns the restored files, when set")
	f.StringVar(&r.WorkDir, "work-dir", "", "scratch space as large as the database (default: the system's temporary directory)")
	f.StringVar(&r.Mariabackup, "mariabackup", r.Mariabackup, "the mariabackup program")
	f.StringVar(&r.Mbstream, "mbstream", r.Mbstream, "the mbstream program")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}
