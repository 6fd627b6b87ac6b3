package galera

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/testing/proctest"
)

// memStore is a Store in memory with the API server's optimistic
// concurrency.
type memStore struct {
	mu      sync.Mutex
	rec     Record
	version int
}

func (m *memStore) Get(context.Context) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rec.clone()
	if m.version > 0 {
		r.Version = strconv.Itoa(m.version)
	}
	return r, nil
}

func (m *memStore) Update(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if want := strconv.Itoa(m.version); (m.version == 0 && r.Version != "") || (m.version > 0 && r.Version != want) {
		return ErrConflict
	}
	m.version++
	m.rec = r.clone()
	return nil
}

// TestStartersAgree runs the deciding loop of three members at once on one
// record, like a full outage's restart: exactly one bootstraps, the one
// with the highest seqno, and the others join it once its Galera port
// listens.
func TestStartersAgree(t *testing.T) {
	for round := range 5 {
		t.Run(fmt.Sprint(round), func(t *testing.T) { startersAgree(t) })
	}
}

func startersAgree(t *testing.T) {
	store := &memStore{}
	seqnos := []int64{40, 42, 41}
	var members []Member
	for i := range seqnos {
		members = append(members, Member{Name: fmt.Sprintf("db-%d", i), Address: proctest.FreeAddr(t)})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	actions := make([]Action, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		s := NewStarter(Config{Self: m.Name, Members: members, Store: store, Interval: 20 * time.Millisecond,
			Freshness: 30 * time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		s.local = Local{HasData: true, Position: Position{UUID: uuidA, Seqno: seqnos[i]}}
		wg.Go(func() {
			a, err := s.decide(ctx)
			if err != nil {
				t.Errorf("%s: %v", m.Name, err)
			}
			actions[i] = a
			if a.Kind == Bootstrap {
				listen(t, m.Address) // its Galera port opens
			}
		})
	}
	wg.Wait()
	for i, a := range actions {
		want := Join
		if i == 1 {
			want = Bootstrap
		}
		if a.Kind != want {
			t.Errorf("%s decided %+v, want %s", members[i].Name, a, want)
		}
	}
	if r := store.rec.Cluster; r.Round != 1 || r.History[0].Member != "db-1" {
		t.Errorf("record's cluster = %+v, want one bootstrap by db-1", r)
	}
}

// listen accepts connections on address until t ends.
func listen(t *testing.T, address string) {
	l, err := net.Listen("tcp", address)
	if err != nil {
		t.Error(err)
		return
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}
