package galera

import (
	"strings"
	"testing"
	"time"
)

const (
	uuidA = "11111111-1111-1111-1111-111111111111"
	uuidB = "22222222-2222-2222-2222-222222222222"
)

var now = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// recovered is a fresh published entry of a member with data at seqno.
func recovered(uuid string, seqno int64) Entry {
	return Entry{Phase: PhaseRecovered, HasData: uuid != "", Position: Position{UUID: uuid, Seqno: seqno}, Seen: now}
}

// empty is a fresh published entry of a member without data.
func empty() Entry { return Entry{Phase: PhaseRecovered, Position: Position{Seqno: -1}, Seen: now} }

// entryOf is e with a change applied.
func entryOf(e Entry, change func(*Entry)) Entry { change(&e); return e }

// local is the local state matching e.
func local(e Entry) Local {
	return Local{HasData: e.HasData, Position: e.Position, SafeToBootstrap: e.SafeToBootstrap}
}

func TestDecide(t *testing.T) {
	members := []string{"db-0", "db-1", "db-2"}
	started := func(mode ActionKind) Entry {
		return Entry{Phase: PhaseStarted, Mode: mode, HasData: true, Position: Position{UUID: uuidA, Seqno: 9}, Seen: now}
	}
	tests := []struct {
		name      string
		self      string
		local     *Local // default: the self entry's
		entries   map[string]Entry
		cluster   Cluster
		reachable []string
		waited    time.Duration
		quorum    time.Duration
		want      ActionKind
		newCl     bool
		reason    string
	}{
		{name: "first start, nobody published: publish", self: "db-1", local: &Local{Position: Position{Seqno: -1}},
			want: Publish},
		{name: "first start, only some published: wait", self: "db-0",
			entries: map[string]Entry{"db-0": empty(), "db-2": empty()}, want: Wait, reason: "waiting for db-1"},
		{name: "first start, all empty: the first member bootstraps a new cluster", self: "db-0",
			entries: map[string]Entry{"db-0": empty(), "db-1": empty(), "db-2": empty()}, want: Bootstrap, newCl: true},
		{name: "first start, all empty: the others wait for the first", self: "db-2",
			entries: map[string]Entry{"db-0": empty(), "db-1": empty(), "db-2": empty()}, want: Wait, reason: "waiting for db-0 to bootstrap"},
		{name: "a member bootstraps, its port not open yet: wait", self: "db-1",
			entries: map[string]Entry{"db-0": started(Bootstrap), "db-1": empty(), "db-2": empty()}, want: Wait, reason: "db-0 is bootstrapping"},
		{name: "a member runs and is reachable: join", self: "db-1",
			entries:   map[string]Entry{"db-0": started(Bootstrap), "db-1": empty(), "db-2": empty()},
			reachable: []string{"db-0"}, want: Join, reason: "running: db-0"},
		{name: "restart alone while the others run: join at once, even unpublished", self: "db-2",
			local:     &Local{HasData: true, Position: Position{UUID: uuidA, Seqno: 5}},
			entries:   map[string]Entry{"db-0": started(Join), "db-1": entryOf(started(Join), func(e *Entry) { e.Phase = PhaseSynced })},
			reachable: []string{"db-0", "db-1"}, want: Join, reason: "running: db-0, db-1"},
		{name: "a synced entry whose port is closed (killed) is not running", self: "db-2",
			entries:   map[string]Entry{"db-0": entryOf(started(Join), func(e *Entry) { e.Phase = PhaseSynced }), "db-1": recovered(uuidA, 7), "db-2": recovered(uuidA, 8)},
			reachable: nil, want: Wait, reason: "waiting for db-0"},
		{name: "full outage: the highest seqno bootstraps", self: "db-1",
			entries: map[string]Entry{"db-0": recovered(uuidA, 10), "db-1": recovered(uuidA, 12), "db-2": recovered(uuidA, 11)},
			cluster: Cluster{UUID: uuidA, Round: 1}, want: Bootstrap, reason: "db-1 has the most recent committed position " + uuidA + ":12"},
		{name: "full outage: a lower seqno waits for the highest", self: "db-0",
			entries: map[string]Entry{"db-0": recovered(uuidA, 10), "db-1": recovered(uuidA, 12), "db-2": recovered(uuidA, 11)},
			want:    Wait, reason: "waiting for db-1 to bootstrap"},
		{name: "full outage, tie: the lowest ordinal bootstraps", self: "db-1",
			entries: map[string]Entry{"db-0": recovered(uuidA, 10), "db-1": recovered(uuidA, 12), "db-2": recovered(uuidA, 12)},
			want:    Bootstrap},
		{name: "full outage, tie: safe_to_bootstrap wins over the ordinal", self: "db-2",
			entries: map[string]Entry{"db-0": recovered(uuidA, 10), "db-1": recovered(uuidA, 12),
				"db-2": entryOf(recovered(uuidA, 12), func(e *Entry) { e.SafeToBootstrap = true })},
			want: Bootstrap},
		{name: "full outage, one data directory gone: a member with data bootstraps", self: "db-0",
			entries: map[string]Entry{"db-0": empty(), "db-1": recovered(uuidA, 3), "db-2": recovered(uuidA, 4)},
			cluster: Cluster{UUID: uuidA}, want: Wait, reason: "waiting for db-2 to bootstrap"},
		{name: "member without data never bootstraps while another has data", self: "db-0",
			entries: map[string]Entry{"db-0": empty(), "db-1": empty(), "db-2": recovered(uuidA, 4)},
			want:    Wait, reason: "waiting for db-2"},
		{name: "every data directory gone but a cluster existed: fail", self: "db-0",
			entries: map[string]Entry{"db-0": empty(), "db-1": empty(), "db-2": empty()},
			cluster: Cluster{UUID: uuidA, Round: 2}, want: Fail, reason: "restore a backup"},
		{name: "data of a foreign cluster is not a candidate", self: "db-0",
			entries: map[string]Entry{"db-0": recovered(uuidB, 100), "db-1": recovered(uuidA, 3), "db-2": recovered(uuidA, 4)},
			cluster: Cluster{UUID: uuidA}, want: Wait, reason: "waiting for db-2 to bootstrap"},
		{name: "members of different clusters and none recorded: fail", self: "db-0",
			entries: map[string]Entry{"db-0": recovered(uuidB, 100), "db-1": recovered(uuidA, 3), "db-2": recovered(uuidA, 4)},
			want:    Fail, reason: "different clusters"},
		{name: "a member missing, no quorum timeout: wait forever", self: "db-1",
			entries: map[string]Entry{"db-0": recovered(uuidA, 10), "db-1": recovered(uuidA, 12)},
			waited:  time.Hour, want: Wait, reason: "waiting for db-2 to publish"},
		{name: "a member missing, quorum timeout not reached: wait", self: "db-1",
			entries: map[string]Entry{"db-0": recovered(uuidA, 10), "db-1": recovered(uuidA, 12)},
			waited:  time.Minute, quorum: 5 * time.Minute, want: Wait},
		{name: "a member missing, after the quorum timeout: the majority's best bootstraps", self: "db-1",
			entries: map[string]Entry{"db-0": recovered(uuidA, 10), "db-1": recovered(uuidA, 12)},
			waited:  6 * time.Minute, quorum: 5 * time.Minute, want: Bootstrap, reason: "without db-2"},
		{name: "two members missing: no quorum, wait even after the timeout", self: "db-1",
			entries: map[string]Entry{"db-1": recovered(uuidA, 12)},
			waited:  time.Hour, quorum: 5 * time.Minute, want: Wait},
		{name: "a stale published position does not count", self: "db-1",
			entries: map[string]Entry{"db-0": entryOf(recovered(uuidA, 20), func(e *Entry) { e.Seen = now.Add(-time.Minute) }),
				"db-1": recovered(uuidA, 12), "db-2": recovered(uuidA, 11)},
			want: Wait, reason: "waiting for db-0"},
		{name: "own entry about to go stale: publish again", self: "db-1",
			entries: map[string]Entry{"db-1": entryOf(recovered(uuidA, 12), func(e *Entry) { e.Seen = now.Add(-20 * time.Second) })},
			want:    Publish},
		{name: "own entry says started (previous run): publish", self: "db-1",
			entries: map[string]Entry{"db-1": started(Join)}, local: &Local{HasData: true, Position: Position{UUID: uuidA, Seqno: 9}},
			want: Publish},
		{name: "a stale bootstrap claim is not waited for", self: "db-1",
			entries: map[string]Entry{"db-0": entryOf(started(Bootstrap), func(e *Entry) { e.Seen = now.Add(-time.Hour) }),
				"db-1": recovered(uuidA, 12), "db-2": recovered(uuidA, 11)},
			want: Wait, reason: "waiting for db-0 to publish"},
		{name: "not a member: fail", self: "db-9", local: &Local{}, want: Fail, reason: "not in the member list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := Record{Cluster: tc.cluster, Members: tc.entries}
			if rec.Members == nil {
				rec.Members = map[string]Entry{}
			}
			l := local(rec.Members[tc.self])
			if tc.local != nil {
				l = *tc.local
			}
			reach := map[string]bool{}
			for _, m := range tc.reachable {
				reach[m] = true
			}
			o := Observation{Self: tc.self, Members: members, Local: l, Record: rec, Reachable: reach,
				Now: now, WaitingSince: now.Add(-tc.waited), Freshness: 30 * time.Second, QuorumTimeout: tc.quorum}
			got := Decide(o)
			if got.Kind != tc.want || got.NewCluster != tc.newCl || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("Decide = %+v, want %s (new cluster %t) with a reason containing %q", got, tc.want, tc.newCl, tc.reason)
			}
		})
	}
}

// TestDecideAgrees checks that every member of a full outage computes the
// same bootstrapper: exactly one bootstraps.
func TestDecideAgrees(t *testing.T) {
	members := []string{"db-0", "db-1", "db-2"}
	entries := map[string]Entry{"db-0": recovered(uuidA, 7), "db-1": empty(), "db-2": recovered(uuidA, 7)}
	bootstraps := 0
	for _, self := range members {
		o := Observation{Self: self, Members: members, Local: local(entries[self]), Record: Record{Members: entries},
			Now: now, WaitingSince: now, Freshness: 30 * time.Second}
		if Decide(o).Kind == Bootstrap {
			bootstraps++
			if self != "db-0" {
				t.Errorf("%s bootstraps, want db-0 (tie, lowest ordinal)", self)
			}
		}
	}
	if bootstraps != 1 {
		t.Errorf("%d members bootstrap, want 1", bootstraps)
	}
}
