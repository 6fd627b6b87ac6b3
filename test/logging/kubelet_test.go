package logging_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// podLog stands in for the kubelet's side of a container's log: it
// follows a process's output file and appends each complete line to
// <pods>/<namespace>_<pod>_<uid>/<container>/0.log in the CRI format the
// kubelet writes ("<RFC 3339 time> <stream> F <line>"). It keeps every
// line it wrote, for the checks.
type podLog struct {
	Path string

	src    string
	offset int64
	mu     sync.Mutex
	lines  []string
}

// followPod starts copying src into the pod's log until the test ends.
func followPod(t *testing.T, pods, namespace, pod, container, src string) *podLog {
	t.Helper()
	dir := filepath.Join(pods, fmt.Sprintf("%s_%s_%x", namespace, pod, time.Now().UnixNano()), container)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	p := &podLog{Path: filepath.Join(dir, "0.log"), src: src}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			if err := p.copyNew(); err != nil {
				t.Errorf("copying %s: %v", src, err)
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return p
}

// Sync copies what the process wrote since the last copy.
func (p *podLog) Sync(t *testing.T) {
	t.Helper()
	if err := p.copyNew(); err != nil {
		t.Fatal(err)
	}
}

// Lines returns every line written so far.
func (p *podLog) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

func (p *podLog) copyNew() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.Open(p.src)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(p.offset, io.SeekStart); err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return nil
	}
	var out bytes.Buffer
	for _, line := range bytes.Split(b[:end], []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		fmt.Fprintf(&out, "%s stderr F %s\n", time.Now().UTC().Format(time.RFC3339Nano), line)
		p.lines = append(p.lines, string(line))
	}
	dst, err := os.OpenFile(p.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := dst.Write(out.Bytes()); err != nil {
		dst.Close()
		return err
	}
	p.offset += int64(end + 1)
	return dst.Close()
}
