package galera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Member is one member of the cluster.
type Member struct {
	// Name is its name, the pod's in a StatefulSet.
	Name string
	// Address is host:port of its Galera replication (gmcast) port.
	Address string
}

// ParseMembers parses "name=host:port,..." in ordinal order.
func ParseMembers(s string) ([]Member, error) {
	var ms []Member
	for _, part := range strings.Split(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("member %q: want name=host:port", part)
		}
		if slices.ContainsFunc(ms, func(m Member) bool { return m.Name == name }) {
			return nil, fmt.Errorf("member %s is listed twice", name)
		}
		ms = append(ms, Member{Name: name, Address: addr})
	}
	return ms, nil
}

// MembersFromPeers returns the --members of a StatefulSet's pods: names
// (comma-separated) at <name>.<domain>:port.
func MembersFromPeers(names, domain string, port int) string {
	var parts []string
	for _, n := range strings.Split(names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			parts = append(parts, fmt.Sprintf("%s=%s.%s:%d", n, n, domain, port))
		}
	}
	return strings.Join(parts, ",")
}

// Config says how `osk galera start` starts a member.
type Config struct {
	// Self is this member's name; Members all members, in ordinal order.
	Self    string
	Members []Member
	// Mariadbd and InstallDB are the programs to run.
	Mariadbd, InstallDB string
	// DefaultsFile and DataDir are mariadbd's --defaults-file and
	// --datadir; User its --user, when set.
	DefaultsFile, DataDir, User string
	// ExtraArgs are passed to mariadbd after osk's own.
	ExtraArgs []string
	// SQL reaches the local mariadbd as its admin (root); a new cluster
	// gives root@'%' and root@localhost SQL.Password.
	SQL SQL
	// SSTPassword, when set, is the password a new cluster gives SSTUser,
	// the user of mariabackup's state transfers (wsrep_sst_auth).
	SSTPassword string
	// StatusFile is where the liveness probe reads the supervisor's
	// heartbeat.
	StatusFile string
	// Store keeps the coordination record.
	Store Store
	// Interval is how often a waiting member observes again.
	Interval time.Duration
	// Freshness and QuorumTimeout: see Observation.
	Freshness, QuorumTimeout time.Duration
	Log                      *slog.Logger
}

// Starter decides how a member starts and runs its mariadbd.
type Starter struct {
	cfg   Config
	local Local
	// waitingSince is when this run first published its position.
	waitingSince time.Time
	last         Action
	lastLogged   time.Time
	phase        *phaseBox
}

// repeatLog is how often an unchanged decision is logged again.
const repeatLog = 30 * time.Second

// NewStarter returns a starter of cfg.
func NewStarter(cfg Config) *Starter {
	return &Starter{cfg: cfg, phase: newPhaseBox(StatusWaiting)}
}

// Run decides how the member starts, runs mariadbd until it exits, and
// returns its exit code. Signals received while mariadbd runs are
// forwarded to it; before that, they stop Run.
func (s *Starter) Run(ctx context.Context) (int, error) {
	go s.heartbeat(ctx)
	if err := s.readLocal(ctx); err != nil {
		return 1, err
	}
	action, err := s.decide(ctx)
	if err != nil {
		return 1, err
	}
	return s.runMariadbd(ctx, action)
}

// readLocal reads the data directory, recovering the position from InnoDB
// when grastate.dat has none.
func (s *Starter) readLocal(ctx context.Context) error {
	has, err := HasData(s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("reading the local state: %w", err)
	}
	g, err := ReadGrastate(s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("reading the local state: %w", err)
	}
	s.local = Local{HasData: has, Position: g.Position, SafeToBootstrap: g.SafeToBootstrap}
	if has && g.Seqno == -1 {
		s.cfg.Log.Info("Recovering the last committed position", "grastate", g.Position.String(), "reason", "grastate.dat has seqno -1 (mariadbd did not stop cleanly)")
		pos, err := Recover(ctx, s.cfg.Mariadbd, s.clusterArgs())
		if err != nil {
			return fmt.Errorf("recovering the position with mariadbd --wsrep-recover: %w", err)
		}
		s.local.Position = pos
	}
	s.cfg.Log.Info("Read the local state", "hasData", has, "position", s.local.Position.String(), "safeToBootstrap", s.local.SafeToBootstrap)
	return nil
}

// decide observes and acts until the action is to start mariadbd.
func (s *Starter) decide(ctx context.Context) (Action, error) {
	for {
		rec, err := s.cfg.Store.Get(ctx)
		if err != nil {
			if err := s.retryLater(ctx, err); err != nil {
				return Action{}, err
			}
			continue
		}
		a := Decide(s.observe(ctx, rec))
		s.logDecision(a)
		done, err := s.act(ctx, rec, a)
		if done {
			return a, nil
		}
		if a.Kind == Fail || ctx.Err() != nil {
			return a, err
		}
		if err != nil {
			if err := s.retryLater(ctx, err); err != nil {
				return Action{}, err
			}
		}
	}
}

// retryLater logs a failure to read or write the record (the API server
// may be briefly away) and waits before observing again.
func (s *Starter) retryLater(ctx context.Context, err error) error {
	s.cfg.Log.Warn("Retrying", "error", err, "in", s.cfg.Interval)
	return sleep(ctx, s.cfg.Interval)
}

// observe gathers an observation around the record rec.
func (s *Starter) observe(ctx context.Context, rec Record) Observation {
	o := Observation{
		Self: s.cfg.Self, Local: s.local, Record: rec, Reachable: map[string]bool{},
		Now: time.Now(), WaitingSince: s.waitingSince, Freshness: s.cfg.Freshness, QuorumTimeout: s.cfg.QuorumTimeout,
	}
	for _, m := range s.cfg.Members {
		o.Members = append(o.Members, m.Name)
		if e, ok := rec.Members[m.Name]; ok && m.Name != s.cfg.Self && e.Phase.running() {
			o.Reachable[m.Name] = reachable(ctx, m.Address)
		}
	}
	if o.WaitingSince.IsZero() {
		o.WaitingSince = o.Now
	}
	return o
}

// logDecision logs an action when it differs from the last one, and the
// same one again every repeatLog.
func (s *Starter) logDecision(a Action) {
	if a == s.last && time.Since(s.lastLogged) < repeatLog {
		return
	}
	s.last, s.lastLogged = a, time.Now()
	level := slog.LevelInfo
	if a.Kind == Fail {
		level = slog.LevelError
	}
	s.cfg.Log.Log(context.Background(), level, "Decided", "action", a.Kind, "reason", a.Reason)
}

// act carries out a; done says that mariadbd is to start now.
func (s *Starter) act(ctx context.Context, rec Record, a Action) (bool, error) {
	switch a.Kind {
	case Publish:
		return false, s.publish(ctx, rec)
	case Wait:
		return false, sleep(ctx, s.cfg.Interval)
	case Fail:
		return false, errors.New(a.Reason)
	}
	err := s.claim(ctx, rec, a)
	if errors.Is(err, ErrConflict) {
		s.cfg.Log.Info("Deciding again", "reason", "the coordination record changed while deciding")
		return false, nil
	}
	return err == nil, err
}

// entry returns this member's entry in phase.
func (s *Starter) entry(phase Phase, mode ActionKind) Entry {
	return Entry{Phase: phase, Mode: mode, HasData: s.local.HasData, Position: s.local.Position,
		SafeToBootstrap: s.local.SafeToBootstrap, Seen: time.Now()}
}

// publish writes this member's position; a conflict just means deciding
// again.
func (s *Starter) publish(ctx context.Context, rec Record) error {
	r := rec.clone()
	r.Members[s.cfg.Self] = s.entry(PhaseRecovered, "")
	err := s.cfg.Store.Update(ctx, r)
	if errors.Is(err, ErrConflict) {
		return nil
	}
	if err == nil && s.waitingSince.IsZero() {
		s.waitingSince = time.Now()
	}
	return err
}

// claim records that this member bootstraps or joins, at the version it
// decided on.
func (s *Starter) claim(ctx context.Context, rec Record, a Action) error {
	r := rec.clone()
	r.Members[s.cfg.Self] = s.entry(PhaseStarted, a.Kind)
	if a.Kind == Bootstrap {
		r.addBootstrap(s.cfg.Self, s.local.Position, a.Reason, time.Now())
	}
	return s.cfg.Store.Update(ctx, r)
}

// setEntry changes this member's entry, re-reading the record on
// conflicts; change may also change the record's cluster.
func (s *Starter) setEntry(ctx context.Context, change func(*Record)) error {
	for {
		rec, err := s.cfg.Store.Get(ctx)
		if err != nil {
			return err
		}
		r := rec.clone()
		change(&r)
		if err := s.cfg.Store.Update(ctx, r); !errors.Is(err, ErrConflict) {
			return err
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting to decide: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}
