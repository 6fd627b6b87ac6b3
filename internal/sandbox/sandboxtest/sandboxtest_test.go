package sandboxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oskproject/osk/internal/sandbox"
)

// recorder is a testing.TB that records a fatal failure instead of ending
// the test.
type recorder struct {
	testing.TB
	ctx     context.Context
	failure string
}

func (r *recorder) Helper()                  {}
func (r *recorder) Context() context.Context { return r.ctx }
func (r *recorder) Fatal(args ...any)        { r.failure = fmt.Sprint(args...) }

func TestEventuallyFailsWithTheLastObservation(t *testing.T) {
	r := &recorder{ctx: t.Context()}
	calls := 0
	Eventually(r, 300*time.Millisecond, "the answer", func(context.Context) error {
		calls++
		return fmt.Errorf("%d/3 replicas ready", calls%3)
	})
	for _, want := range []string{"waiting for the answer", "deadline exceeded", "last observed:", "replicas ready"} {
		if !strings.Contains(r.failure, want) {
			t.Errorf("failure %q does not mention %q", r.failure, want)
		}
	}
	if calls < 2 {
		t.Errorf("check called %d times in 300ms, want it polled", calls)
	}
}

func TestEventuallySucceedsOnceTheCheckPasses(t *testing.T) {
	r := &recorder{ctx: t.Context()}
	calls := 0
	Eventually(r, 10*time.Second, "the third call", func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if r.failure != "" || calls != 3 {
		t.Errorf("got failure %q after %d calls, want success at the third", r.failure, calls)
	}
}

func TestNamespacePrefixIsADNSLabel(t *testing.T) {
	for name, want := range map[string]string{
		"TestDeployment":            "test-testdeployment-",
		"TestJob/sub_test#01":       "test-testjob-sub-test-01-",
		strings.Repeat("TestX", 20): "test-" + strings.Repeat("testx", 8) + "-",
	} {
		if got := namespacePrefix(name); got != want {
			t.Errorf("namespacePrefix(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestWithStagesAddsToTheSandboxStages(t *testing.T) {
	var opts sandbox.Options
	for _, o := range []Option{WithStages([]byte("a")), WithStages([]byte("b"), []byte("c"))} {
		o(&opts)
	}
	if got := string(bytes.Join(opts.Stages, []byte(","))); got != "a,b,c" {
		t.Errorf("stages: got %q, want a,b,c", got)
	}
}
