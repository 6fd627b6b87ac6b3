package galera

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// grastateFile is Galera's saved state in the data directory.
const grastateFile = "grastate.dat"

// Grastate is the content of grastate.dat.
type Grastate struct {
	Position
	SafeToBootstrap bool
}

// ParseGrastate reads grastate.dat's "key: value" lines.
func ParseGrastate(r io.Reader) (Grastate, error) {
	g := Grastate{Position: Position{Seqno: -1}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(key) {
		case "uuid":
			g.UUID = value
		case "seqno":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return g, fmt.Errorf("parsing grastate.dat's seqno %q: %w", value, err)
			}
			g.Seqno = n
		case "safe_to_bootstrap":
			g.SafeToBootstrap = value == "1"
		}
	}
	return g, sc.Err()
}

// HasData tells whether a data directory holds a database: grastate.dat
// or MariaDB's system schema.
func HasData(datadir string) (bool, error) {
	for _, name := range []string{grastateFile, "mysql"} {
		_, err := os.Stat(filepath.Join(datadir, name))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("looking at the data directory: %w", err)
		}
	}
	return false, nil
}

// ReadGrastate reads datadir's grastate.dat; a missing file is a state
// with no position (seqno -1).
func ReadGrastate(datadir string) (Grastate, error) {
	f, err := os.Open(filepath.Join(datadir, grastateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Grastate{Position: Position{Seqno: -1}}, nil
	}
	if err != nil {
		return Grastate{}, fmt.Errorf("reading grastate.dat: %w", err)
	}
	defer f.Close()
	return ParseGrastate(f)
}

var safeToBootstrapLine = regexp.MustCompile(`(?m)^safe_to_bootstrap:.*$`)

// SetSafeToBootstrap sets safe_to_bootstrap: 1 in datadir's grastate.dat,
// which Galera requires of the member that bootstraps; a missing file is
// left missing.
func SetSafeToBootstrap(datadir string) error {
	path := filepath.Join(datadir, grastateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading grastate.dat: %w", err)
	}
	s := string(b)
	if safeToBootstrapLine.MatchString(s) {
		s = safeToBootstrapLine.ReplaceAllString(s, "safe_to_bootstrap: 1")
	} else {
		s = strings.TrimRight(s, "\n") + "\nsafe_to_bootstrap: 1\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o660); err != nil {
		return fmt.Errorf("writing safe_to_bootstrap to grastate.dat: %w", err)
	}
	return nil
}

var recoveredLine = regexp.MustCompile(`WSREP: Recovered position:?\s+([0-9a-fA-F-]{36}):(-?\d+)`)

// ParseRecovered finds the last "WSREP: Recovered position: uuid:seqno"
// in mariadbd --wsrep-recover's log.
func ParseRecovered(log string) (Position, error) {
	m := recoveredLine.FindAllStringSubmatch(log, -1)
	if len(m) == 0 {
		return Position{}, errors.New("no \"WSREP: Recovered position\" in mariadbd --wsrep-recover's log")
	}
	last := m[len(m)-1]
	seqno, err := strconv.ParseInt(last[2], 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("parsing the recovered seqno %q: %w", last[2], err)
	}
	return Position{UUID: last[1], Seqno: seqno}, nil
}

// Recover runs mariadbd --wsrep-recover on the data directory and returns
// the last committed position InnoDB holds. args are mariadbd's options
// (defaults file, data directory, user).
func Recover(ctx context.Context, mariadbd string, args []string) (Position, error) {
	logFile, err := os.CreateTemp("", "osk-galera-recover-*.log")
	if err != nil {
		return Position{}, fmt.Errorf("creating the recovery log: %w", err)
	}
	logFile.Close()
	defer os.Remove(logFile.Name())
	cmd := exec.CommandContext(ctx, mariadbd, append(args, "--wsrep-recover", "--log-error="+logFile.Name())...)
	out, runErr := cmd.CombinedOutput()
	log, err := os.ReadFile(logFile.Name())
	if err != nil {
		return Position{}, fmt.Errorf("reading the recovery log: %w", err)
	}
	pos, err := ParseRecovered(string(log) + string(out))
	if err != nil {
		return Position{}, errors.Join(err, runErr, fmt.Errorf("its log: %s", tail(string(log)+string(out), 10)))
	}
	return pos, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
