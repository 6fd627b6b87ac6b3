package galera

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Restore puts a stored backup, with the chain of backups it builds on,
// into an empty data directory, as the data of one member: that member
// then bootstraps from it (it is the only one with data) and the others,
// emptied too, join it by state transfer.
type Restore struct {
	// From is the directory of the backup to restore.
	From string
	// DataDir is the member's data directory, which must be empty;
	// DefaultsFile its defaults file; User, when set, owns the files.
	DataDir, DefaultsFile, User string
	// WorkDir is scratch space for the prepared backup, as large as the
	// database.
	WorkDir string
	// Mariabackup and Mbstream are the programs.
	Mariabackup, Mbstream string
	Log                   *slog.Logger
}

// Run restores the backup, step by step.
func (r *Restore) Run(ctx context.Context) error {
	has, err := HasData(r.DataDir)
	if err != nil {
		return fmt.Errorf("checking that %s is empty: %w", r.DataDir, err)
	}
	if has {
		return fmt.Errorf("%s holds a database: a backup is restored into an empty data directory only", r.DataDir)
	}
	chain, err := r.chain()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(r.WorkDir, "osk-restore-")
	if err != nil {
		return fmt.Errorf("creating the work directory: %w", err)
	}
	defer os.RemoveAll(work)
	for i, b := range chain {
		if err := r.apply(ctx, work, i, b); err != nil {
			return err
		}
	}
	return r.copyBack(ctx, filepath.Join(work, "0"), filepath.Join(work, fmt.Sprint(len(chain)-1)))
}

// chain returns the backups to apply: the full one first, then each
// incremental one up to From.
func (r *Restore) chain() ([]Backup, error) {
	dir := filepath.Dir(filepath.Clean(r.From))
	b, err := ReadBackup(r.From)
	chain := []Backup{b}
	for err == nil && b.Kind == BackupIncremental && len(chain) <= maxChain {
		b, err = ReadBackup(filepath.Join(dir, b.Base))
		chain = append(chain, b)
	}
	if err == nil && b.Kind != BackupFull {
		err = fmt.Errorf("backup %s is neither full nor incremental, or its chain is longer than %d", b.Name, maxChain)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the chain of backup %s: %w", r.From, err)
	}
	slices.Reverse(chain)
	return chain, nil
}

// maxChain bounds a chain of incremental backups (a loop of Base names
// would not end otherwise).
const maxChain = 1000

// apply extracts the i-th backup of the chain into work/i and prepares
// it: the full one on its own, an incremental one onto work/0.
func (r *Restore) apply(ctx context.Context, work string, i int, b Backup) error {
	dir := filepath.Join(work, fmt.Sprint(i))
	r.Log.Info("Preparing a backup", "step", i+1, "name", b.Name, "kind", b.Kind)
	if err := os.Mkdir(dir, 0o750); err != nil {
		return fmt.Errorf("extracting backup %s: %w", b.Name, err)
	}
	stream, err := os.Open(filepath.Join(filepath.Dir(filepath.Clean(r.From)), b.Name, backupStream))
	if err != nil {
		return fmt.Errorf("extracting backup %s: %w", b.Name, err)
	}
	defer stream.Close()
	extract := exec.CommandContext(ctx, r.Mbstream, "-x", "-C", dir)
	extract.Stdin = stream
	if err := run(extract, "extracting backup "+b.Name); err != nil {
		return err
	}
	args := []string{"--prepare", "--target-dir=" + filepath.Join(work, "0")}
	if i > 0 {
		args = append(args, "--incremental-dir="+dir)
	}
	return run(exec.CommandContext(ctx, r.Mariabackup, args...), "preparing backup "+b.Name)
}

// copyBack copies the prepared backup into the data directory and writes
// grastate.dat with the position of the last backup applied, so that the
// member starts from it.
func (r *Restore) copyBack(ctx context.Context, prepared, last string) error {
	args := []string{"--copy-back", "--target-dir=" + prepared, "--datadir=" + r.DataDir}
	if r.DefaultsFile != "" {
		args = append([]string{"--defaults-file=" + r.DefaultsFile}, args...)
	}
	if err := run(exec.CommandContext(ctx, r.Mariabackup, args...), "copying the backup into "+r.DataDir); err != nil {
		return err
	}
	pos, err := galeraInfo(last)
	if err != nil {
		return err
	}
	g := fmt.Sprintf("# GALERA saved state\nversion: 2.1\nuuid: %s\nseqno: %d\nsafe_to_bootstrap: 0\n", pos.UUID, pos.Seqno)
	if err := os.WriteFile(filepath.Join(r.DataDir, grastateFile), []byte(g), 0o660); err != nil {
		return fmt.Errorf("writing grastate.dat: %w", err)
	}
	r.Log.Info("Restored", "datadir", r.DataDir, "position", pos.String())
	if r.User == "" {
		return nil
	}
	return run(exec.CommandContext(ctx, "chown", "-R", r.User+":", r.DataDir), "giving the data to "+r.User)
}

// galeraInfo reads the Galera position mariabackup --galera-info saved.
func galeraInfo(dir string) (Position, error) {
	b, err := os.ReadFile(filepath.Join(dir, "xtrabackup_galera_info"))
	if err != nil {
		return Position{}, fmt.Errorf("reading the backup's Galera position: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return Position{}, fmt.Errorf("the backup's Galera position is empty")
	}
	uuid, seqno, ok := strings.Cut(fields[0], ":")
	var p Position
	if _, err := fmt.Sscan(seqno, &p.Seqno); !ok || err != nil {
		return Position{}, fmt.Errorf("parsing the backup's Galera position %q", fields[0])
	}
	p.UUID = uuid
	return p, nil
}

// run runs cmd and names step in its error, with its output's end.
func run(cmd *exec.Cmd, step string) error {
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", step, err, tail(string(out), 10))
	}
	return nil
}
