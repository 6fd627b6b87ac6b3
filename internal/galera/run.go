package galera

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// phaseBox holds the status file's phase and mariadbd's pid.
type phaseBox struct {
	mu    sync.Mutex
	phase string
	pid   int
}

func newPhaseBox(phase string) *phaseBox { return &phaseBox{phase: phase} }

func (b *phaseBox) set(phase string, pid int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.phase, b.pid = phase, pid
}

func (b *phaseBox) get() StatusFile {
	b.mu.Lock()
	defer b.mu.Unlock()
	return StatusFile{Phase: b.phase, PID: b.pid, Heartbeat: time.Now()}
}

// heartbeat rewrites the status file until ctx ends.
func (s *Starter) heartbeat(ctx context.Context) {
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		if err := writeStatus(s.cfg.StatusFile, s.phase.get()); err != nil {
			s.cfg.Log.Error("Writing the status file", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// baseArgs are the mariadbd options every run uses.
func (s *Starter) baseArgs() []string {
	args := []string{"--defaults-file=" + s.cfg.DefaultsFile, "--datadir=" + s.cfg.DataDir}
	if s.cfg.User != "" {
		args = append(args, "--user="+s.cfg.User)
	}
	return args
}

// clusterArgs add the Galera options osk sets to baseArgs: the other
// members' addresses and this member's name.
func (s *Starter) clusterArgs() []string {
	var peers []string
	for _, m := range s.cfg.Members {
		if m.Name != s.cfg.Self {
			peers = append(peers, m.Address)
		}
	}
	return append(s.baseArgs(), "--wsrep-cluster-address=gcomm://"+strings.Join(peers, ","), "--wsrep-node-name="+s.cfg.Self)
}

// mariadbdArgs are the options of the server run for action a.
func (s *Starter) mariadbdArgs(a Action) []string {
	args := s.clusterArgs()
	if s.local.HasData && s.local.Position.UUID != "" && !a.NewCluster {
		args = append(args, "--wsrep-start-position="+s.local.Position.String())
	}
	if a.Kind == Bootstrap {
		args = append(args, "--wsrep-new-cluster")
	}
	return append(args, s.cfg.ExtraArgs...)
}

// prepare readies the data directory for action a.
func (s *Starter) prepare(ctx context.Context, a Action) error {
	switch {
	case a.Kind == Bootstrap && a.NewCluster:
		return s.initialize(ctx)
	case a.Kind == Bootstrap:
		s.cfg.Log.Info("Setting safe_to_bootstrap: 1 in grastate.dat", "reason", "this member bootstraps")
		return SetSafeToBootstrap(s.cfg.DataDir)
	}
	return nil
}

// initialize creates the system tables of a new cluster, its admin,
// root, with SQL.Password, from anywhere, and SSTUser with SSTPassword;
// the passwords go to mariadbd on its standard input, never on a command
// line or in a log.
func (s *Starter) initialize(ctx context.Context) error {
	s.cfg.Log.Info("Initializing the data directory of a new cluster", "datadir", s.cfg.DataDir)
	var user []string
	if s.cfg.User != "" {
		user = []string{"--user=" + s.cfg.User}
	}
	install := append([]string{"--no-defaults", "--datadir=" + s.cfg.DataDir, "--auth-root-authentication-method=socket", "--skip-test-db"}, user...)
	if out, err := exec.CommandContext(ctx, s.cfg.InstallDB, install...).CombinedOutput(); err != nil {
		return fmt.Errorf("initializing the data directory with %s: %w\n%s", s.cfg.InstallDB, err, tail(string(out), 20))
	}
	script := s.usersSQL()
	if script == "" {
		return nil
	}
	boot := exec.CommandContext(ctx, s.cfg.Mariadbd, append([]string{"--no-defaults", "--bootstrap", "--datadir=" + s.cfg.DataDir, "--log-warnings=0"}, user...)...)
	boot.Stdin = strings.NewReader(script)
	if out, err := boot.CombinedOutput(); err != nil {
		return fmt.Errorf("creating the users with mariadbd --bootstrap: %w\n%s", err, tail(s.redact(string(out)), 20))
	}
	return nil
}

// usersSQL creates the users a new cluster gets: the admin, and the SST
// user when it has a password.
func (s *Starter) usersSQL() string {
	var script string
	if s.cfg.SQL.Password == "" {
		s.cfg.Log.Warn("Leaving root without a password", "reason", "no admin password was given")
	} else {
		script = adminSQL(s.cfg.SQL.User, s.cfg.SQL.Password)
	}
	if s.cfg.SSTPassword != "" {
		script += sstSQL(s.cfg.SSTPassword)
	}
	if script != "" {
		script = "FLUSH PRIVILEGES;\n" + script
	}
	return script
}

// redact hides the passwords in mariadbd's output.
func (s *Starter) redact(out string) string {
	for _, p := range []string{s.cfg.SQL.Password, s.cfg.SSTPassword} {
		if p != "" {
			out = strings.ReplaceAll(out, p, "<password>")
		}
	}
	return out
}

// adminSQL creates user@'%' and sets user@localhost's password.
func adminSQL(user, password string) string {
	u, p := quote(user), quote(password)
	return "CREATE USER IF NOT EXISTS " + u + "@'%' IDENTIFIED BY " + p + ";\n" +
		"GRANT ALL PRIVILEGES ON *.* TO " + u + "@'%' WITH GRANT OPTION;\n" +
		"CREATE USER IF NOT EXISTS " + u + "@'localhost' IDENTIFIED BY " + p + ";\n" +
		"ALTER USER " + u + "@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(" + p + ");\n" +
		"GRANT ALL PRIVILEGES ON *.* TO " + u + "@'localhost' WITH GRANT OPTION;\n"
}

// SSTUser is the user a donor's mariabackup logs in as during a state
// transfer (wsrep_sst_auth), local to the donor.
const SSTUser = "sst"

// sstSQL creates SSTUser@localhost with what mariabackup needs.
func sstSQL(password string) string {
	u := quote(SSTUser) + "@'localhost'"
	return "CREATE USER IF NOT EXISTS " + u + " IDENTIFIED BY " + quote(password) + ";\n" +
		"GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO " + u + ";\n"
}

// quote makes s an SQL string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`).Replace(s) + "'"
}

// runMariadbd starts mariadbd for action a and waits for it, forwarding
// signals; it returns mariadbd's exit code.
func (s *Starter) runMariadbd(ctx context.Context, a Action) (int, error) {
	if err := s.prepare(ctx, a); err != nil {
		return 1, err
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	args := s.mariadbdArgs(a)
	cmd := exec.Command(s.cfg.Mariadbd, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("starting mariadbd: %w", err)
	}
	s.phase.set(StatusStarting, cmd.Process.Pid)
	s.cfg.Log.Info("Started mariadbd", "action", a.Kind, "pid", cmd.Process.Pid, "args", args)
	monitorCtx, stopMonitor := context.WithCancel(ctx)
	defer stopMonitor()
	go s.monitor(monitorCtx)
	go forward(sigs, cmd.Process)
	err := cmd.Wait()
	stopMonitor()
	code := exitCode(cmd.ProcessState)
	s.cfg.Log.Info("mariadbd exited", "code", code, "error", err)
	s.markStopped()
	return code, nil
}

// forward passes signals on to mariadbd until sigs is no longer notified.
func forward(sigs <-chan os.Signal, p *os.Process) {
	for sig := range sigs {
		_ = p.Signal(sig)
	}
}

// exitCode is a process's exit code, 128+signal when a signal ended it.
func exitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// monitor follows mariadbd once started: its MySQL port answering (the
// liveness probe then asks it), then Synced, which it records.
func (s *Starter) monitor(ctx context.Context) {
	pid := s.phase.get().PID
	for handshake(ctx, s.cfg.SQL.Address) != nil {
		if sleep(ctx, time.Second) != nil {
			return
		}
	}
	s.phase.set(StatusRunning, pid)
	s.cfg.Log.Info("mariadbd answers on its MySQL port", "address", s.cfg.SQL.Address)
	var last error
	for {
		st, err := s.cfg.SQL.Status(ctx)
		if err == nil {
			err = st.Serving()
		}
		if err == nil {
			s.markSynced(ctx, st)
			s.ensureSSTUser(ctx)
			return
		}
		if last == nil || err.Error() != last.Error() {
			s.cfg.Log.Info("Waiting for mariadbd to be Synced", "state", err.Error())
			last = err
		}
		if sleep(ctx, time.Second) != nil {
			return
		}
	}
}

// markSynced records that this member is synced, and the cluster's UUID
// when the record has none.
func (s *Starter) markSynced(ctx context.Context, st WsrepStatus) {
	s.cfg.Log.Info("mariadbd is Synced", "clusterSize", st.ClusterSize, "clusterUUID", st.ClusterUUID)
	err := s.setEntry(ctx, func(r *Record) {
		e := s.entry(PhaseSynced, r.Members[s.cfg.Self].Mode)
		e.UUID = st.ClusterUUID
		r.Members[s.cfg.Self] = e
		if r.Cluster.UUID == "" {
			r.Cluster.UUID = st.ClusterUUID
		}
	})
	if err != nil {
		s.cfg.Log.Error("Recording that this member is synced", "error", err)
	}
}

// ensureSSTUser creates SSTUser, or sets its password, once the member
// is synced: a cluster created before the SST user was, or whose SST
// password changed, gets it too (users replicate to every member).
func (s *Starter) ensureSSTUser(ctx context.Context) {
	if s.cfg.SSTPassword == "" {
		return
	}
	u := quote(SSTUser) + "@'localhost'"
	err := s.cfg.SQL.Exec(ctx, strings.Split(strings.TrimSpace(sstSQL(s.cfg.SSTPassword)), "\n")...)
	if err == nil {
		err = s.cfg.SQL.Exec(ctx, "ALTER USER "+u+" IDENTIFIED BY "+quote(s.cfg.SSTPassword))
	}
	if err != nil {
		s.cfg.Log.Error("Ensuring the SST user", "user", SSTUser, "error", s.redact(err.Error()))
	}
}

// markStopped records, as best it can, that mariadbd exited.
func (s *Starter) markStopped() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.setEntry(ctx, func(r *Record) {
		e := r.Members[s.cfg.Self]
		e.Phase, e.Seen = PhaseStopped, time.Now()
		r.Members[s.cfg.Self] = e
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.cfg.Log.Error("Recording that mariadbd stopped", "error", err)
	}
}
