package sandboxtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
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

// TestFindLeaks checks the leak search on its own: a value found as it
// is or base64-encoded is named by its Secret and key, never quoted;
// short values are not searched for.
func TestFindLeaks(t *testing.T) {
	secrets := []secretValue{
		{where: "Secret a, key password", value: "Zq8xW2pL9vK3"},
		{where: "Secret b, key token", value: "short"},
	}
	seen := map[string]string{
		"Event e1":           "login with Zq8xW2pL9vK3 failed",
		"Event e2":           "data " + base64.StdEncoding.EncodeToString([]byte("Zq8xW2pL9vK3")),
		"Event e3":           "short is not searched for",
		"the operator's log": "nothing here",
	}
	got := findLeaks(secrets, seen)
	want := []string{"Event e1 holds the value of Secret a, key password", "Event e2 holds the value of Secret a, key password"}
	if !slices.Equal(got, want) {
		t.Errorf("findLeaks = %q, want %q", got, want)
	}
	if l := leaves([]byte("db:\n  password: Zq8xW2pL9vK3\nport: 1\n"), true); !slices.Equal(l, []string{"Zq8xW2pL9vK3"}) {
		t.Errorf("leaves of a values map = %q", l)
	}
}
