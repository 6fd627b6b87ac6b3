package galera

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const crashed = `# GALERA saved state
version: 2.1
uuid:    84a97854-e93d-11f1-bd2a-f371adff8792
seqno:   -1
safe_to_bootstrap: 0
`

func TestParseGrastate(t *testing.T) {
	tests := []struct {
		name, in string
		want     Grastate
	}{
		{"after a crash", crashed, Grastate{Position: Position{UUID: "84a97854-e93d-11f1-bd2a-f371adff8792", Seqno: -1}}},
		{"after a clean stop of the last member", strings.NewReplacer("seqno:   -1", "seqno:   42", "safe_to_bootstrap: 0", "safe_to_bootstrap: 1").Replace(crashed),
			Grastate{Position: Position{UUID: "84a97854-e93d-11f1-bd2a-f371adff8792", Seqno: 42}, SafeToBootstrap: true}},
		{"empty", "", Grastate{Position: Position{Seqno: -1}}},
	}
	for _, tc := range tests {
		got, err := ParseGrastate(strings.NewReader(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("%s: ParseGrastate = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := ParseGrastate(strings.NewReader("seqno: x\n")); err == nil {
		t.Error("ParseGrastate accepted seqno x")
	}
}

func TestSetSafeToBootstrap(t *testing.T) {
	dir := t.TempDir()
	if err := SetSafeToBootstrap(dir); err != nil {
		t.Fatalf("without grastate.dat: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, grastateFile), []byte(crashed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SetSafeToBootstrap(dir); err != nil {
		t.Fatal(err)
	}
	g, err := ReadGrastate(dir)
	if err != nil || !g.SafeToBootstrap || g.Seqno != -1 {
		t.Errorf("after SetSafeToBootstrap: %+v, %v", g, err)
	}
	if has, err := HasData(dir); !has || err != nil {
		t.Errorf("HasData = %t, %v; want true", has, err)
	}
	if has, err := HasData(t.TempDir()); has || err != nil {
		t.Errorf("HasData(empty) = %t, %v; want false", has, err)
	}
}

func TestParseRecovered(t *testing.T) {
	log := "2026-11-26  2:03:16 0 [Note] InnoDB: Starting crash recovery\n" +
		"2026-11-26  2:03:17 0 [Note] WSREP: Recovered position: 84a97854-e93d-11f1-bd2a-f371adff8792:2413\n"
	got, err := ParseRecovered(log)
	if err != nil || got != (Position{UUID: "84a97854-e93d-11f1-bd2a-f371adff8792", Seqno: 2413}) {
		t.Errorf("ParseRecovered = %v, %v", got, err)
	}
	if _, err := ParseRecovered("[ERROR] Aborting"); err == nil {
		t.Error("ParseRecovered found a position in a log without one")
	}
}

func TestParseMembers(t *testing.T) {
	ms, err := ParseMembers("db-0=db-0.db:4567, db-1=db-1.db:4567")
	if err != nil || len(ms) != 2 || ms[1] != (Member{Name: "db-1", Address: "db-1.db:4567"}) {
		t.Errorf("ParseMembers = %v, %v", ms, err)
	}
	for _, bad := range []string{"db-0", "db-0=a:1,db-0=b:1", "=a:1"} {
		if _, err := ParseMembers(bad); err == nil {
			t.Errorf("ParseMembers(%q) succeeded", bad)
		}
	}
}

// TestRecordRoundTrip checks that a record survives its ConfigMap and
// that an update keeps what others wrote there.
func TestRecordRoundTrip(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "7", Labels: map[string]string{"owner": "operator"}},
		Data: map[string]string{"note": "kept"}}
	r, err := decodeRecord(cm)
	if err != nil {
		t.Fatal(err)
	}
	r.Members["db-0"] = recovered(uuidA, 3)
	r.addBootstrap("db-0", Position{UUID: uuidA, Seqno: 3}, "test", now)
	out, err := encodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	if out.Data["note"] != "kept" || out.Labels["owner"] != "operator" || out.ResourceVersion != "7" {
		t.Errorf("encodeRecord lost the ConfigMap's other content: %+v", out)
	}
	back, err := decodeRecord(out)
	if err != nil {
		t.Fatal(err)
	}
	if e := back.Members["db-0"]; e.Position != (Position{UUID: uuidA, Seqno: 3}) || !e.Seen.Equal(now) || back.Cluster.Round != 1 {
		t.Errorf("round trip: %+v", back)
	}
}

func TestLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status.json")
	if err := Live(t.Context(), path, "127.0.0.1:1", now); err == nil {
		t.Error("Live without a status file succeeded")
	}
	for _, tc := range []struct {
		st   StatusFile
		live bool
	}{
		{StatusFile{Phase: StatusWaiting, Heartbeat: now}, true},
		{StatusFile{Phase: StatusStarting, Heartbeat: now.Add(-10 * time.Second)}, true},
		{StatusFile{Phase: StatusStarting, Heartbeat: now.Add(-2 * time.Minute)}, false},
		{StatusFile{Phase: StatusRunning, Heartbeat: now}, false}, // nothing answers on port 1
	} {
		if err := writeStatus(path, tc.st); err != nil {
			t.Fatal(err)
		}
		if err := Live(t.Context(), path, "127.0.0.1:1", now); (err == nil) != tc.live {
			t.Errorf("Live(%+v) = %v, want live %t", tc.st, err, tc.live)
		}
	}
}

func TestServing(t *testing.T) {
	ok := WsrepStatus{State: "Synced", Ready: true, ClusterStatus: "Primary", RejectQueries: "NONE"}
	if err := ok.Serving(); err != nil {
		t.Errorf("a synced member: %v", err)
	}
	for _, st := range []WsrepStatus{
		{State: "Donor/Desynced", Ready: true, ClusterStatus: "Primary", RejectQueries: "NONE"},
		{State: "Joining: receiving State Transfer", ClusterStatus: "Primary", RejectQueries: "NONE"},
		{State: "Synced", Ready: false, ClusterStatus: "Primary", RejectQueries: "NONE"},
		{State: "Synced", Ready: true, ClusterStatus: "non-Primary", RejectQueries: "NONE"},
		{State: "Synced", Ready: true, ClusterStatus: "Primary", ReadOnly: true, RejectQueries: "NONE"},
	} {
		if st.Serving() == nil {
			t.Errorf("%+v serves", st)
		}
	}
}
