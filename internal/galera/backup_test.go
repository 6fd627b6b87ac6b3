package galera

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPrunable(t *testing.T) {
	full := func(name string) Backup { return Backup{Name: name, Kind: BackupFull} }
	inc := func(name, base string) Backup { return Backup{Name: name, Kind: BackupIncremental, Base: base} }
	week := []Backup{full("1"), inc("2", "1"), inc("3", "2"), full("4"), inc("5", "4"), inc("6", "5")}
	cases := []struct {
		name    string
		backups []Backup
		keep    int
		want    []string
	}{
		{"fewer than keep", week, 10, nil},
		{"whole chains beyond keep", week, 3, []string{"1", "2", "3"}},
		{"kept incrementals keep their chain", week, 2, []string{"1", "2", "3"}},
		{"a kept incremental keeps its full", week[:3], 1, nil},
		{"only fulls", []Backup{full("1"), full("2"), full("3")}, 2, []string{"1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Prunable(tc.backups, tc.keep); !slices.Equal(got, tc.want) {
				t.Errorf("Prunable(keep %d) = %v, want %v", tc.keep, got, tc.want)
			}
		})
	}
}

func TestParseCheckpoints(t *testing.T) {
	from, to, err := parseCheckpoints("backup_type=incremental;from_lsn=42;to_lsn=4711;last_lsn=4711")
	if err != nil || from != 42 || to != 4711 {
		t.Errorf("parseCheckpoints = %d, %d, %v; want 42, 4711", from, to, err)
	}
	for _, bad := range []string{"", "from_lsn=1", "from_lsn=x;to_lsn=2"} {
		if _, _, err := parseCheckpoints(bad); err == nil {
			t.Errorf("parseCheckpoints(%q) succeeded", bad)
		}
	}
}

func TestMembersFromPeers(t *testing.T) {
	got := MembersFromPeers("m-0,m-1", "m-peers.ns.svc.cluster.local", 4567)
	want := "m-0=m-0.m-peers.ns.svc.cluster.local:4567,m-1=m-1.m-peers.ns.svc.cluster.local:4567"
	if got != want {
		t.Errorf("MembersFromPeers = %q, want %q", got, want)
	}
}

// TestUsersSQL checks the users a new cluster gets: the SST user only
// with a password, with what mariabackup needs and nothing more.
func TestUsersSQL(t *testing.T) {
	s := NewStarter(Config{SQL: SQL{User: "root", Password: "r'pw"}, SSTPassword: "sst-pw", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	script := s.usersSQL()
	for _, want := range []string{"'root'@'%' IDENTIFIED BY 'r\\'pw'", "CREATE USER IF NOT EXISTS 'sst'@'localhost' IDENTIFIED BY 'sst-pw'",
		"GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'sst'@'localhost'"} {
		if !strings.Contains(script, want) {
			t.Errorf("users SQL lacks %q:\n%s", want, script)
		}
	}
	s.cfg.SSTPassword = ""
	if strings.Contains(s.usersSQL(), "'sst'") {
		t.Error("an SST user without a password")
	}
	if got := s.redact("a r'pw b"); got != "a <password> b" {
		t.Errorf("redact = %q", got)
	}
}

// TestBackupJobFallsBack checks the job against fake agents: an
// incremental backup comes from the last backup's member and builds on
// it; when that member cannot take it, another member takes a full one;
// a failure reported in the trailer stores nothing.
func TestBackupJobFallsBack(t *testing.T) {
	var failing = map[string]string{}
	agent := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			if failing[name] == "status" {
				http.Error(w, "not synced", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Trailer", TrailerCheckpoints+", "+TrailerError)
			fmt.Fprintf(w, "stream of %s %s", name, r.URL.RawQuery)
			if failing[name] == "trailer" {
				w.Header().Set(TrailerError, "mariabackup failed")
				return
			}
			w.Header().Set(TrailerCheckpoints, "from_lsn=0;to_lsn=100")
		}))
	}
	a, b := agent("a"), agent("b")
	defer a.Close()
	defer b.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	job := &BackupJob{Dir: dir, Keep: 10, Agents: []Member{{"a", a.URL}, {"b", b.URL}}, Token: "tok", Client: http.DefaultClient,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { now = now.Add(time.Hour); return now }}
	take := func(kind string) (Backup, error) {
		job.Kind = kind
		return job.Run(context.Background())
	}
	full, err := take(BackupIncremental)
	if err != nil || full.Kind != BackupFull || full.Member != "a" {
		t.Fatalf("first backup = %+v, %v; want a full one of a (nothing to build on)", full, err)
	}
	inc, err := take(BackupIncremental)
	if err != nil || inc.Kind != BackupIncremental || inc.Base != full.Name || inc.Member != "a" {
		t.Fatalf("incremental backup = %+v, %v; want one of a on %s", inc, err, full.Name)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, inc.Name, backupStream)); string(b) != "stream of a incremental-lsn=100" {
		t.Errorf("stored stream %q, want a's from LSN 100", b)
	}
	failing["a"] = "status"
	if fb, err := take(BackupIncremental); err != nil || fb.Kind != BackupFull || fb.Member != "b" {
		t.Errorf("with a down: %+v, %v; want a full backup of b", fb, err)
	}
	failing["b"] = "trailer"
	if _, err := take(BackupFull); err == nil || !strings.Contains(err.Error(), "mariabackup failed") {
		t.Errorf("with every agent failing: %v, want mariabackup's failure", err)
	}
	entries, _ := os.ReadDir(dir)
	if stored, err := ListBackups(dir); err != nil || len(stored) != 3 || len(entries) != 3 {
		t.Errorf("stored %d backups in %d entries (%v), want 3 and no partial one", len(stored), len(entries), err)
	}
}

// TestRestoreRefuses checks what a restore refuses before it touches
// anything: a data directory that holds a database, and a backup whose
// chain is broken.
func TestRestoreRefuses(t *testing.T) {
	backups := t.TempDir()
	inc := filepath.Join(backups, "2-incremental")
	if err := os.Mkdir(inc, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := writeMeta(inc, Backup{Name: "2-incremental", Kind: BackupIncremental, Base: "1-full"}); err != nil {
		t.Fatal(err)
	}
	full, empty := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(full, "mysql"), 0o750); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct{ datadir, want string }{
		{full, "holds a database"},
		{empty, "reading the chain of backup"},
	} {
		r := &Restore{From: inc, DataDir: tc.datadir, WorkDir: t.TempDir(), Mariabackup: "false", Mbstream: "false", Log: log}
		if err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("restore into %s: %v, want an error saying %q", tc.datadir, err, tc.want)
		}
	}
}
