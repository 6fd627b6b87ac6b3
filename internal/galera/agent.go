package galera

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Trailers of a backup stream: the backup's checkpoints
// (xtrabackup_checkpoints, "key = value" lines joined by ";") once
// mariabackup succeeded, or why it failed.
const (
	TrailerCheckpoints = "Osk-Backup-Checkpoints"
	TrailerError       = "Osk-Backup-Error"
)

// BackupPath is the agent's one endpoint: GET streams a backup of the
// member, full, or incremental from ?incremental-lsn=.
const BackupPath = "/backup"

// Agent serves physical backups of the member it runs beside: it runs
// mariabackup --backup on the member's data directory, which only a
// process that mounts it can read, and streams the xbstream to the
// caller. One backup runs at a time, only of a member that serves.
type Agent struct {
	// Token is the bearer token callers present.
	Token string
	// SQL reaches the member (mariabackup logs in as SQL.User).
	SQL SQL
	// Mariabackup is the program; DefaultsFile and DataDir the member's.
	Mariabackup, DefaultsFile, DataDir string
	Log                                *slog.Logger
	busy                               sync.Mutex
}

// ServeHTTP streams one backup.
func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != BackupPath || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+a.Token)) != 1 {
		http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
		return
	}
	lsn, err := incrementalLSN(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !a.busy.TryLock() {
		http.Error(w, "a backup of this member is running", http.StatusConflict)
		return
	}
	defer a.busy.Unlock()
	if err := Ready(r.Context(), a.SQL); err != nil {
		http.Error(w, "this member does not serve: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	a.stream(w, r, lsn)
}

// incrementalLSN reads ?incremental-lsn=; -1 for a full backup.
func incrementalLSN(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("incremental-lsn")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("incremental-lsn %q: want a non-negative LSN", v)
	}
	return n, nil
}

// stream runs mariabackup into the response and reports its outcome in
// the trailers.
func (a *Agent) stream(w http.ResponseWriter, r *http.Request, lsn int64) {
	tmp, err := os.MkdirTemp("", "osk-backup-")
	if err != nil {
		http.Error(w, "creating a scratch directory: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer os.RemoveAll(tmp)
	w.Header().Set("Trailer", TrailerCheckpoints+", "+TrailerError)
	w.Header().Set("Content-Type", "application/octet-stream")
	a.Log.Info("Backing up", "incrementalLSN", lsn)
	cmd := exec.CommandContext(r.Context(), a.Mariabackup, a.backupArgs(tmp, lsn)...)
	// The password reaches mariabackup's client library in its
	// environment, never on its command line.
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+a.SQL.Password)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Run(); err != nil {
		msg := fmt.Sprintf("mariabackup --backup: %v: %s", err, strings.ReplaceAll(tail(stderr.String(), 5), "\n", " | "))
		a.Log.Error("Backup failed", "error", msg)
		w.Header().Set(TrailerError, msg)
		return
	}
	cp, err := os.ReadFile(filepath.Join(tmp, "xtrabackup_checkpoints"))
	if err != nil {
		w.Header().Set(TrailerError, "reading the backup's checkpoints: "+err.Error())
		return
	}
	w.Header().Set(TrailerCheckpoints, strings.Join(strings.Fields(strings.ReplaceAll(string(cp), " = ", "=")), ";"))
	a.Log.Info("Backed up", "checkpoints", w.Header().Get(TrailerCheckpoints))
}

// backupArgs are mariabackup's options: a stream of the member's data,
// its Galera position (xtrabackup_galera_info), the checkpoints also in
// tmp.
func (a *Agent) backupArgs(tmp string, lsn int64) []string {
	host, port, _ := strings.Cut(a.SQL.Address, ":")
	args := []string{"--defaults-file=" + a.DefaultsFile, "--backup", "--stream=xbstream", "--galera-info",
		"--datadir=" + a.DataDir, "--target-dir=" + tmp, "--extra-lsndir=" + tmp,
		"--host=" + host, "--port=" + port, "--user=" + a.SQL.User}
	if lsn >= 0 {
		args = append(args, "--incremental-lsn="+strconv.FormatInt(lsn, 10))
	}
	return args
}
