// Package poll waits for a condition the way every part of osk does: check
// at once, then every interval, and when the context ends say what was
// awaited, why the wait stopped and what was last observed.
package poll

import (
	"context"
	"fmt"
	"time"
)

// Until calls check every interval until it returns nil. When ctx ends
// first, it returns an error naming what it waited for, why it stopped,
// and what check last reported, which is what makes a timeout
// diagnosable.
func Until(ctx context.Context, interval time.Duration, what string, check func(context.Context) error) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last error
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		// Keep the last real observation rather than the deadline that cut
		// the final check short.
		if last == nil || !ended(ctx) {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; last observed: %v", what, context.Cause(ctx), last)
		case <-ticker.C:
		}
	}
}

// ended reports whether ctx is done or past its deadline; a context's timer
// fires a moment after its deadline, when checks may already have failed
// for lack of time.
func ended(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && !time.Now().Before(deadline)
}
