package galera_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestNewClusterBootstrapsOnce starts three empty members at once: one
// bootstraps, the others join, and the probes tell the truth.
func TestNewClusterBootstrapsOnce(t *testing.T) {
	c := newCluster(t)
	c.StartAll()
	c.WaitReady(t)
	rec := c.Record(t)
	if rec.Cluster.Round != 1 || len(rec.Cluster.History) != 1 || rec.Cluster.History[0].Member != "mariadb-0" {
		t.Errorf("record's cluster = %+v, want one bootstrap, by mariadb-0", rec.Cluster)
	}
	if rec.Cluster.UUID == "" {
		t.Error("the record has no cluster UUID")
	}
	if n := c.BootstrapsLogged(t); n != 1 {
		t.Errorf("%d members logged a bootstrap, want 1", n)
	}
	for _, m := range c.Members {
		for _, probe := range []string{"ready", "live"} {
			out, err := probeCmd(c, m, probe).CombinedOutput()
			if err != nil {
				t.Errorf("osk galera probe %s of %s: %v\n%s", probe, m.Name, err, out)
			}
		}
	}
}

// TestKilledMemberRejoins kills one member with SIGKILL and restarts it: it
// joins the two that run, without a bootstrap.
func TestKilledMemberRejoins(t *testing.T) {
	c := newCluster(t)
	c.StartAll()
	c.WaitReady(t)
	m := c.Members[1]
	m.Proc.Kill(t)
	if out, err := probeCmd(c, m, "ready").CombinedOutput(); err == nil {
		t.Errorf("osk galera probe ready of a killed member succeeded: %s", out)
	}
	c.Start(m)
	c.WaitReady(t)
	if got := m.Decisions(t); got[len(got)-1] != "join" {
		t.Errorf("the restarted member decided %v, want join last", got)
	}
	if rec := c.Record(t); rec.Cluster.Round != 1 {
		t.Errorf("record's cluster = %+v, want no second bootstrap", rec.Cluster)
	}
}

// TestFullOutageRecovery kills every member with SIGKILL while a writer
// commits rows, then restarts them: the cluster re-forms without help and
// keeps every row the writer saw committed. Each outage starts from the
// cluster the previous recovery left.
func TestFullOutageRecovery(t *testing.T) {
	c := newCluster(t)
	c.StartAll()
	c.WaitReady(t)
	createTable(t, c.Members[0].Open(t))
	cases := []struct {
		name    string
		restart func(t *testing.T, c *cluster)
	}{
		{"all at once", func(t *testing.T, c *cluster) { c.StartAll() }},
		{"random order", restartRandomly},
		{"one data directory deleted", func(t *testing.T, c *cluster) {
			m := c.Members[rand.IntN(len(c.Members))]
			t.Logf("deleting %s's data directory", m.Name)
			if err := os.RemoveAll(m.Data); err != nil {
				t.Fatal(err)
			}
			m.MakeDataDir(t)
			restartRandomly(t, c)
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			committed := outage(t, c)
			start := time.Now()
			tc.restart(t, c)
			c.WaitReady(t)
			t.Logf("writable with 3 Synced members %s after the first restart", time.Since(start).Round(time.Millisecond))
			checkRows(t, c.Members[rand.IntN(len(c.Members))].Open(t), committed)
			rec := c.Record(t)
			if rec.Cluster.Round != i+2 {
				t.Fatalf("record's cluster = %+v, want bootstrap number %d", rec.Cluster, i+2)
			}
			last := rec.Cluster.History[len(rec.Cluster.History)-1]
			t.Logf("bootstrap %d by %s: %s", last.Round, last.Member, last.Reason)
			if n := c.BootstrapsLogged(t); n != i+2 {
				t.Errorf("the members logged %d bootstraps in all, want %d", n, i+2)
			}
		})
	}
}

// restartRandomly starts the members in a random order, up to two
// seconds apart.
func restartRandomly(t *testing.T, c *cluster) {
	for _, i := range rand.Perm(len(c.Members)) {
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Millisecond)
		t.Logf("starting %s", c.Members[i].Name)
		c.Start(c.Members[i])
	}
}

// outage kills every member while a writer commits rows to them in turn,
// and returns the ids whose commit succeeded.
func outage(t testing.TB, c *cluster) []int64 {
	t.Helper()
	var dbs []*sql.DB
	for _, m := range c.Members {
		dbs = append(dbs, m.Open(t))
	}
	w := startWriter(dbs)
	time.Sleep(2 * time.Second)
	c.KillAll(t)
	committed, err := w.stop()
	if len(committed) == 0 {
		t.Fatalf("the writer committed nothing before the outage: %v", err)
	}
	t.Logf("the writer committed %d rows before every member was killed", len(committed))
	return committed
}

// writer inserts rows until stopped or until an insert fails.
type writer struct {
	cancel    context.CancelFunc
	done      chan struct{}
	committed []int64
	err       error
}

// startWriter starts inserting rows round-robin over dbs.
func startWriter(dbs []*sql.DB) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := int64(time.Now().UnixNano()); ctx.Err() == nil; i++ {
			if _, err := dbs[i%int64(len(dbs))].ExecContext(ctx, "INSERT INTO osk.t (id) VALUES (?)", i); err != nil {
				w.err = err
				return
			}
			w.committed = append(w.committed, i)
		}
	}()
	return w
}

// stop stops the writer and returns what it committed, and the error
// that stopped it.
func (w *writer) stop() ([]int64, error) {
	w.cancel()
	<-w.done
	return w.committed, w.err
}

func createTable(t testing.TB, db *sql.DB) {
	t.Helper()
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS osk", "CREATE TABLE IF NOT EXISTS osk.t (id BIGINT PRIMARY KEY)"} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// checkRows fails t for every committed id missing from osk.t.
func checkRows(t testing.TB, db *sql.DB, committed []int64) {
	t.Helper()
	have := map[int64]bool{}
	rows, err := db.QueryContext(t.Context(), "SELECT id FROM osk.t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var missing []int64
	for _, id := range committed {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d committed rows are missing after recovery, e.g. %v", len(missing), len(committed), missing[:min(5, len(missing))])
	}
}

// probeCmd returns `osk galera probe <which>` of member m.
func probeCmd(c *cluster, m *member, which string) *exec.Cmd {
	cmd := exec.Command(oskBin, "galera", "probe", which, "--mysql-address="+m.SQLAddress(), "--status-file="+m.StatusFile())
	cmd.Env = append(os.Environ(), "MARIADB_ROOT_PASSWORD="+rootPassword)
	return cmd
}

// BenchmarkFullOutageRecovery measures the time from every member
// restarted after a SIGKILL of all three to a writable cluster of three
// Synced members.
func BenchmarkFullOutageRecovery(b *testing.B) {
	c := newCluster(b)
	c.StartAll()
	c.WaitReady(b)
	createTable(b, c.Members[0].Open(b))
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		committed := outage(b, c)
		b.StartTimer()
		start := time.Now()
		c.StartAll()
		c.WaitReady(b)
		total += time.Since(start)
		b.StopTimer()
		checkRows(b, c.Members[0].Open(b), committed)
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/recovery")
}
