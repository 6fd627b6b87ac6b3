// Package operatortest runs osk's operator inside a test process, as the
// sandbox tests do.
package operatortest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/oskproject/osk/internal/operator"
)

// Start runs the operator with config and o until the returned function
// is called or t ends, failing t if it stops at once or with an error.
func Start(t testing.TB, config *rest.Config, o operator.Options) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- operator.Run(ctx, config, o) }()
	select {
	case err := <-done:
		cancel()
		t.Fatalf("the operator stopped at once: %v", err)
	case <-time.After(time.Second):
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("operator: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
