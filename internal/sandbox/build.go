package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// progressInterval is how often a running build reports its progress.
const progressInterval = 15 * time.Second

// Build compiles t's binary set into the cache, through the Go module
// proxy, unless it is cached already; it returns the cached set. A build
// happens in a locked scratch directory, renamed into place when complete:
// an interrupted build leaves no partial set, and the next build removes
// the scratch directories of builds whose process is gone. Progress is
// logged to log.
func (t *Tools) Build(ctx context.Context, log *slog.Logger) (*Binaries, error) {
	if b, err := t.Binaries(); err == nil {
		log.Info("sandbox binaries are cached", "versions", t.String(), "dir", b.Dir)
		return b, nil
	}
	final, err := t.CacheDir()
	if err != nil {
		return nil, err
	}
	scratch, release, err := newScratchDir(filepath.Dir(final))
	if err != nil {
		return nil, err
	}
	defer release()

	start := time.Now()
	log.Info("building the sandbox binaries", "versions", t.String(), "dir", final)
	set := filepath.Join(scratch, "set")
	for _, m := range toolModules {
		if err := t.buildModule(ctx, log, m, set); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(set, final); err != nil {
		// A concurrent build may have installed the same set first.
		if b, cached := t.Binaries(); cached == nil {
			return b, nil
		}
		return nil, fmt.Errorf("installing the sandbox binaries into %s: %w", final, err)
	}
	log.Info("built the sandbox binaries", "dir", final, "elapsed", time.Since(start).Round(time.Second))
	return t.Binaries()
}

// scratchPattern names the scratch directories of builds in the cache.
const scratchPattern = ".build-*"

// newScratchDir removes the scratch directories that builds left in root
// when they were killed, and creates and locks a new one; release unlocks
// and removes it.
func newScratchDir(root string) (dir string, release func(), err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, fmt.Errorf("creating the sandbox cache: %w", err)
	}
	abandoned, err := filepath.Glob(filepath.Join(root, scratchPattern))
	if err != nil {
		return "", nil, fmt.Errorf("cleaning the sandbox cache: %w", err)
	}
	for _, d := range abandoned {
		if _, err := liveOwner(d); errors.Is(err, ErrNotRunning) {
			if err := os.RemoveAll(d); err != nil {
				return "", nil, fmt.Errorf("cleaning the sandbox cache: %w", err)
			}
		}
	}
	if dir, err = os.MkdirTemp(root, scratchPattern); err != nil {
		return "", nil, fmt.Errorf("creating the sandbox build directory: %w", err)
	}
	lock, err := acquireDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() { lock.Close(); os.RemoveAll(dir) }, nil
}

// buildModule builds m's binaries and assembles its assets under out.
func (t *Tools) buildModule(ctx context.Context, log *slog.Logger, m toolModule, out string) error {
	g := goTool{dir: filepath.Join(t.Dir, m.name)}
	version := t.Versions[m.name]
	for _, b := range m.binaries {
		start := time.Now()
		log := log.With("binary", b.name, "version", version)
		if err := g.build(ctx, log, b.pkg, buildArgs(m, version, b, filepath.Join(out, "bin", b.name))); err != nil {
			return fmt.Errorf("building %s %s: %w", b.name, version, err)
		}
		log.Info("built", "elapsed", time.Since(start).Round(time.Second))
	}
	if len(m.assets) == 0 {
		return nil
	}
	src, err := g.output(ctx, "list", "-m", "-f", "{{.Dir}}", m.upstream)
	if err != nil {
		return fmt.Errorf("locating %s in the module cache: %w", m.upstream, err)
	}
	for _, a := range m.assets {
		if err := a.assemble(strings.TrimSpace(src), filepath.Join(out, a.name)); err != nil {
			return fmt.Errorf("assembling %s from %s: %w", a.name, m.upstream, err)
		}
	}
	return nil
}

// buildArgs returns the go command line building b of m at version into
// out: static, without local paths or VCS data, with the version stamped,
// listing the packages it compiles.
func buildArgs(m toolModule, version string, b binary, out string) []string {
	ldflags := []string{"-s", "-w"}
	for _, x := range m.stamp(version) {
		ldflags = append(ldflags, "-X", x)
	}
	return []string{"build", "-mod=readonly", "-trimpath", "-buildvcs=false", "-v",
		"-ldflags=" + strings.Join(ldflags, " "), "-o", out, b.pkg}
}

// assemble writes a's sources, found under dir, into path as one
// multi-document YAML file.
func (a asset) assemble(dir, path string) error {
	var buf bytes.Buffer
	for _, src := range a.sources {
		data, err := os.ReadFile(filepath.Join(dir, src))
		if err != nil {
			return err
		}
		buf.WriteString("---\n")
		buf.Write(bytes.TrimRight(data, "\n"))
		buf.WriteString("\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// goTool runs the go command in one tools module, isolated from the
// caller's workspace, flags and target platform.
type goTool struct{ dir string }

func (g goTool) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(),
		"GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0",
		"GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	return cmd
}

// output runs go with args and returns its standard output.
func (g goTool) output(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := g.command(ctx, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out), nil
}

// build runs "go build -v" with args, logging how many of pkg's
// dependencies are compiled every progressInterval.
func (g goTool) build(ctx context.Context, log *slog.Logger, pkg string, args []string) error {
	log.Info("resolving dependencies (downloads modules on first use)", "package", pkg)
	deps, err := g.output(ctx, "list", "-mod=readonly", "-deps", pkg)
	if err != nil {
		return err
	}
	total := strings.Count(deps, "\n")

	cmd := g.command(ctx, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting go build: %w", err)
	}
	var compiled atomic.Int64
	messages := make(chan []string, 1)
	go func() { messages <- countPackages(stderr, deps, &compiled) }()

	start := time.Now()
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	for {
		select {
		case msgs := <-messages:
			err := cmd.Wait()
			if ctx.Err() != nil {
				return fmt.Errorf("go build: %w", context.Cause(ctx))
			}
			if err != nil {
				return fmt.Errorf("go build: %w\n%s", err, strings.Join(msgs, "\n"))
			}
			return nil
		case <-ticker.C:
			log.Info("building", "packages", fmt.Sprintf("%d/%d", compiled.Load(), total),
				"elapsed", time.Since(start).Round(time.Second))
		}
	}
}

// countPackages reads go build -v output from r until it ends, counting in
// compiled the lines naming one of deps' packages; it returns the last
// other lines, which are the compiler's messages.
func countPackages(r io.Reader, deps string, compiled *atomic.Int64) []string {
	known := map[string]bool{}
	for _, p := range strings.Fields(deps) {
		known[p] = true
	}
	const keep = 40
	var messages []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if known[line] {
			compiled.Add(1)
			continue
		}
		messages = append(messages, line)
		if len(messages) > keep {
			messages = messages[1:]
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		messages = append(messages, "reading go build output: "+err.Error())
	}
	return messages
}
