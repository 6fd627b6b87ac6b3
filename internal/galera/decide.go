package galera

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ActionKind is what a member does next.
type ActionKind string

// The actions Decide chooses between.
const (
	// Publish writes the member's own entry (its position, phase recovered).
	Publish ActionKind = "publish"
	// Wait observes again after a while.
	Wait ActionKind = "wait"
	// Bootstrap starts a new primary component from this member.
	Bootstrap ActionKind = "bootstrap"
	// Join starts mariadbd joining the members that run.
	Join ActionKind = "join"
	// Fail stops: a person has to look.
	Fail ActionKind = "fail"
)

// Action is Decide's answer: what to do and why.
type Action struct {
	Kind ActionKind
	// Reason says why, for the log and the record.
	Reason string
	// NewCluster is set on a Bootstrap of a member without data: its data
	// directory has to be initialised first.
	NewCluster bool
}

// Position is a committed position of the replicated state.
type Position struct {
	UUID  string `json:"uuid,omitempty"`
	Seqno int64  `json:"seqno"`
}

// String formats p as Galera does, uuid:seqno.
func (p Position) String() string { return fmt.Sprintf("%s:%d", p.UUID, p.Seqno) }

// Local is what a member found in its own data directory.
type Local struct {
	// HasData is false for a data directory that is empty or gone.
	HasData bool
	// Position is the last committed position: grastate.dat's, or the one
	// mariadbd --wsrep-recover found when grastate.dat's seqno is -1.
	Position Position
	// SafeToBootstrap is grastate.dat's safe_to_bootstrap.
	SafeToBootstrap bool
}

// Observation is everything a member knows when it decides.
type Observation struct {
	// Self is this member's name; Members every member's, in ordinal
	// order (ties are broken by this order).
	Self    string
	Members []string
	Local   Local
	// Record is the coordination record as last read.
	Record Record
	// Reachable says whose Galera port accepted a connection.
	Reachable map[string]bool
	// Now is the time of the observation; WaitingSince when this member
	// first published its position in this run.
	Now, WaitingSince time.Time
	// Freshness is how old an entry may be and still count.
	Freshness time.Duration
	// QuorumTimeout is how long to wait for a member that does not report
	// before a majority goes ahead; zero waits forever.
	QuorumTimeout time.Duration
}

// Decide returns what the observed member does next. It is pure: the same
// observation always gives the same action.
func Decide(o Observation) Action {
	if !slices.Contains(o.Members, o.Self) {
		return Action{Kind: Fail, Reason: fmt.Sprintf("%s is not in the member list %v", o.Self, o.Members)}
	}
	if up := o.upPeers(); len(up) > 0 {
		return Action{Kind: Join, Reason: "running: " + strings.Join(up, ", ")}
	}
	if o.needsPublish() {
		return Action{Kind: Publish, Reason: "publishing this member's position " + o.Local.describe()}
	}
	if b, ok := o.bootstrapping(); ok {
		return Action{Kind: Wait, Reason: b + " is bootstrapping; waiting for its Galera port"}
	}
	return o.chooseBootstrap()
}

// upPeers returns the other members that run: started or synced in the
// record, and reachable.
func (o Observation) upPeers() []string {
	var up []string
	for _, m := range o.Members {
		e, ok := o.Record.Members[m]
		if m != o.Self && ok && e.Phase.running() && o.Reachable[m] {
			up = append(up, m)
		}
	}
	return up
}

// needsPublish tells whether this member's entry is missing, out of date
// or about to go stale.
func (o Observation) needsPublish() bool {
	e, ok := o.Record.Members[o.Self]
	if !ok || e.Phase != PhaseRecovered {
		return true
	}
	if e.HasData != o.Local.HasData || e.Position != o.Local.Position || e.SafeToBootstrap != o.Local.SafeToBootstrap {
		return true
	}
	return o.Now.Sub(e.Seen) > o.Freshness/2
}

// bootstrapping returns a member that claimed the bootstrap recently and
// whose Galera port is not open yet.
func (o Observation) bootstrapping() (string, bool) {
	for _, m := range o.Members {
		e := o.Record.Members[m]
		if m != o.Self && e.Phase == PhaseStarted && e.Mode == Bootstrap && o.fresh(e) {
			return m, true
		}
	}
	return "", false
}

// fresh tells whether an entry was written recently enough to count.
func (o Observation) fresh(e Entry) bool { return o.Now.Sub(e.Seen) <= o.Freshness }

// reported returns the members with a fresh published position, and the
// others.
func (o Observation) reported() (reported, missing []string) {
	for _, m := range o.Members {
		if e, ok := o.Record.Members[m]; ok && e.Phase == PhaseRecovered && o.fresh(e) {
			reported = append(reported, m)
		} else {
			missing = append(missing, m)
		}
	}
	return reported, missing
}

// chooseBootstrap decides, with no member running, who bootstraps among
// the members that reported, or to wait for the others.
func (o Observation) chooseBootstrap() Action {
	reported, missing := o.reported()
	if len(missing) > 0 {
		waited := o.Now.Sub(o.WaitingSince)
		quorum := len(reported) > len(o.Members)/2
		if o.QuorumTimeout == 0 || waited < o.QuorumTimeout || !quorum {
			return Action{Kind: Wait, Reason: fmt.Sprintf("waiting for %s to publish a position (%d of %d reported; %s)",
				strings.Join(missing, ", "), len(reported), len(o.Members), o.quorumRule())}
		}
	}
	winner, newCluster, err := o.winner(reported)
	if err != nil {
		return Action{Kind: Fail, Reason: err.Error()}
	}
	why := o.why(winner, newCluster, missing)
	if winner != o.Self {
		return Action{Kind: Wait, Reason: "waiting for " + winner + " to bootstrap: " + why}
	}
	return Action{Kind: Bootstrap, NewCluster: newCluster, Reason: why}
}

// quorumRule says when the members that reported go ahead without the
// others.
func (o Observation) quorumRule() string {
	if o.QuorumTimeout == 0 {
		return "no quorum timeout: waiting for every member"
	}
	return fmt.Sprintf("a majority goes ahead %s after publishing", o.QuorumTimeout)
}

// why explains a bootstrap choice.
func (o Observation) why(winner string, newCluster bool, missing []string) string {
	var s string
	if newCluster {
		s = "no member has data and no cluster existed: " + winner + ", the first member, starts a new cluster"
	} else {
		s = fmt.Sprintf("%s has the most recent committed position %s", winner, o.Record.Members[winner].Position)
	}
	if len(missing) > 0 {
		s += fmt.Sprintf(" (after the quorum timeout of %s, without %s)", o.QuorumTimeout, strings.Join(missing, ", "))
	}
	return s
}

// winner returns the member that bootstraps among the reported ones.
func (o Observation) winner(reported []string) (string, bool, error) {
	var withData []string
	for _, m := range reported {
		if o.Record.Members[m].HasData {
			withData = append(withData, m)
		}
	}
	if len(withData) == 0 {
		if o.Record.Cluster.UUID != "" {
			return "", false, fmt.Errorf("every reporting member (%s) has an empty data directory but cluster %s existed: "+
				"restore a backup, or delete the record's cluster key to start an empty cluster", strings.Join(reported, ", "), o.Record.Cluster.UUID)
		}
		return reported[0], true, nil
	}
	candidates, err := o.sameCluster(withData)
	if err != nil {
		return "", false, err
	}
	best := slices.MinFunc(candidates, o.moreAdvanced)
	return best, false, nil
}

// sameCluster keeps the members with data of the recorded cluster, or,
// before one is recorded, fails when the members disagree on it.
func (o Observation) sameCluster(withData []string) ([]string, error) {
	uuids := map[string][]string{}
	for _, m := range withData {
		u := o.Record.Members[m].UUID
		uuids[u] = append(uuids[u], m)
	}
	if want := o.Record.Cluster.UUID; want != "" {
		if len(uuids[want]) == 0 {
			return nil, fmt.Errorf("no reporting member has data of cluster %s (they have %v)", want, uuids)
		}
		return uuids[want], nil
	}
	if len(uuids) > 1 {
		return nil, fmt.Errorf("the members' data belong to different clusters %v and none is recorded: a person has to choose", uuids)
	}
	return withData, nil
}

// moreAdvanced orders members best first: highest seqno, then
// safe_to_bootstrap, then member order.
func (o Observation) moreAdvanced(a, b string) int {
	ea, eb := o.Record.Members[a], o.Record.Members[b]
	if ea.Seqno != eb.Seqno {
		if ea.Seqno > eb.Seqno {
			return -1
		}
		return 1
	}
	if ea.SafeToBootstrap != eb.SafeToBootstrap {
		if ea.SafeToBootstrap {
			return -1
		}
		return 1
	}
	return slices.Index(o.Members, a) - slices.Index(o.Members, b)
}

// describe formats a local state for the log.
func (l Local) describe() string {
	if !l.HasData {
		return "(no data)"
	}
	return fmt.Sprintf("%s safe_to_bootstrap=%t", l.Position, l.SafeToBootstrap)
}
