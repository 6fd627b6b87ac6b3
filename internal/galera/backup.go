package galera

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Backup kinds.
const (
	BackupFull        = "full"
	BackupIncremental = "incremental"
)

// Files of a stored backup, a directory of the backup volume.
const (
	backupStream = "backup.xbstream"
	backupMeta   = "osk-backup.json"
	partial      = ".partial"
)

// Backup describes one stored backup.
type Backup struct {
	// Name is its directory: the UTC time it started, then its kind.
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Member is the member it was taken from. InnoDB's LSNs are a
	// member's own, so an incremental backup extends a chain of one
	// member's backups.
	Member string `json:"member"`
	// Base is the backup an incremental one applies to.
	Base string `json:"base,omitempty"`
	// FromLSN and ToLSN are mariabackup's checkpoints.
	FromLSN int64 `json:"fromLSN"`
	ToLSN   int64 `json:"toLSN"`
	// Finished is when the backup was stored.
	Finished time.Time `json:"finished"`
}

// BackupJob takes one backup into Dir through the members' agents and
// keeps the last Keep backups (and the ones they build on).
type BackupJob struct {
	Dir string
	// Kind is BackupFull or BackupIncremental; an incremental backup with
	// no full one to build on, or whose member cannot take it, is full.
	Kind string
	Keep int
	// Agents are the members' agents, Address an http:// base URL, in the
	// order they are asked for a full backup.
	Agents []Member
	Token  string
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
}

// Run takes the backup, stores it and prunes.
func (j *BackupJob) Run(ctx context.Context) (Backup, error) {
	stored, err := ListBackups(j.Dir)
	if err != nil {
		return Backup{}, err
	}
	b, err := j.take(ctx, stored)
	if err != nil {
		return Backup{}, err
	}
	return b, j.prune(append(stored, b))
}

// take asks the agents in turn until one backup is stored.
func (j *BackupJob) take(ctx context.Context, stored []Backup) (Backup, error) {
	var errs []error
	for _, plan := range j.plans(stored) {
		b, err := j.takeFrom(ctx, plan)
		if err == nil {
			j.Log.Info("Stored a backup", "name", b.Name, "kind", b.Kind, "member", b.Member, "base", b.Base, "toLSN", b.ToLSN)
			return b, nil
		}
		j.Log.Warn("Backup failed; trying the next member", "member", plan.Member, "kind", plan.Kind, "error", err)
		errs = append(errs, fmt.Errorf("%s backup of %s: %w", plan.Kind, plan.Member, err))
	}
	return Backup{}, fmt.Errorf("no member could be backed up: %w", errors.Join(errs...))
}

// plans lists the backups to try, best first: an incremental one on the
// last backup's member, then full ones of each member.
func (j *BackupJob) plans(stored []Backup) []Backup {
	var plans []Backup
	if j.Kind == BackupIncremental && len(stored) > 0 {
		last := stored[len(stored)-1]
		plans = append(plans, Backup{Kind: BackupIncremental, Member: last.Member, Base: last.Name, FromLSN: last.ToLSN})
	}
	for _, a := range j.Agents {
		plans = append(plans, Backup{Kind: BackupFull, Member: a.Name})
	}
	return plans
}

// takeFrom streams one backup from its member's agent into a partial
// directory, then stores it under its name.
func (j *BackupJob) takeFrom(ctx context.Context, b Backup) (Backup, error) {
	i := slices.IndexFunc(j.Agents, func(m Member) bool { return m.Name == b.Member })
	if i < 0 {
		return Backup{}, fmt.Errorf("member %s has no agent", b.Member)
	}
	b.Name = j.Now().UTC().Format("20060102T150405Z") + "-" + b.Kind
	dir := filepath.Join(j.Dir, b.Name)
	if err := os.MkdirAll(dir+partial, 0o750); err != nil {
		return Backup{}, fmt.Errorf("creating the backup's directory: %w", err)
	}
	defer os.RemoveAll(dir + partial)
	cp, err := j.fetch(ctx, j.Agents[i].Address, b, filepath.Join(dir+partial, backupStream))
	if err != nil {
		return Backup{}, err
	}
	if b.FromLSN, b.ToLSN, err = parseCheckpoints(cp); err != nil {
		return Backup{}, err
	}
	b.Finished = j.Now().UTC()
	if err := writeMeta(dir+partial, b); err != nil {
		return Backup{}, err
	}
	if err := os.Rename(dir+partial, dir); err != nil {
		return Backup{}, fmt.Errorf("storing the backup: %w", err)
	}
	return b, nil
}

// fetch streams a backup into path and returns its checkpoints.
func (j *BackupJob) fetch(ctx context.Context, agent string, b Backup, path string) (string, error) {
	url := strings.TrimRight(agent, "/") + BackupPath
	if b.Kind == BackupIncremental {
		url += "?incremental-lsn=" + strconv.FormatInt(b.FromLSN, 10)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("asking %s: %w", agent, err)
	}
	req.Header.Set("Authorization", "Bearer "+j.Token)
	resp, err := j.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("asking %s: %w", agent, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return "", fmt.Errorf("agent %s: %s: %s", agent, resp.Status, strings.TrimSpace(string(msg)))
	}
	if err := writeStream(path, resp.Body); err != nil {
		return "", err
	}
	if msg := resp.Trailer.Get(TrailerError); msg != "" {
		return "", fmt.Errorf("agent %s: %s", agent, msg)
	}
	return resp.Trailer.Get(TrailerCheckpoints), nil
}

// writeStream copies a backup stream to path and syncs it.
func writeStream(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("creating the backup file: %w", err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("receiving the backup: %w", err)
	}
	return nil
}

// parseCheckpoints reads from_lsn and to_lsn of the checkpoints trailer.
func parseCheckpoints(s string) (from, to int64, err error) {
	found := 0
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(kv, "=")
		var dst *int64
		switch k {
		case "from_lsn":
			dst = &from
		case "to_lsn":
			dst = &to
		default:
			continue
		}
		if *dst, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("parsing the backup's checkpoint %s: %w", k, err)
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("the agent sent no checkpoints (%q)", s)
	}
	return from, to, nil
}

// writeMeta writes a backup's description into its directory.
func writeMeta(dir string, b Backup) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the backup's description: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, backupMeta), data, 0o640); err != nil {
		return fmt.Errorf("writing the backup's description: %w", err)
	}
	return nil
}

// ReadBackup reads the description of the backup stored in dir.
func ReadBackup(dir string) (Backup, error) {
	data, err := os.ReadFile(filepath.Join(dir, backupMeta))
	if err != nil {
		return Backup{}, fmt.Errorf("reading the backup's description: %w", err)
	}
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return Backup{}, fmt.Errorf("decoding %s: %w", filepath.Join(dir, backupMeta), err)
	}
	return b, nil
}

// ListBackups returns the complete backups in dir, oldest first.
func ListBackups(dir string) ([]Backup, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing the backups: %w", err)
	}
	var out []Backup
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), partial) {
			continue
		}
		b, err := ReadBackup(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // not a backup
		}
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Backup) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Prunable returns the backups beyond the last keep, except those a kept
// incremental backup builds on.
func Prunable(backups []Backup, keep int) []string {
	byName := map[string]Backup{}
	for _, b := range backups {
		byName[b.Name] = b
	}
	kept := map[string]bool{}
	for _, b := range backups[max(0, len(backups)-keep):] {
		for name := b.Name; name != "" && !kept[name]; name = byName[name].Base {
			kept[name] = true
		}
	}
	var out []string
	for _, b := range backups {
		if !kept[b.Name] {
			out = append(out, b.Name)
		}
	}
	return out
}

// prune deletes the backups Prunable names.
func (j *BackupJob) prune(backups []Backup) error {
	for _, name := range Prunable(backups, j.Keep) {
		j.Log.Info("Deleting an old backup", "name", name, "keep", j.Keep)
		if err := os.RemoveAll(filepath.Join(j.Dir, name)); err != nil {
			return fmt.Errorf("deleting backup %s: %w", name, err)
		}
	}
	return nil
}
