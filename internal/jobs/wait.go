package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/oskproject/osk/internal/poll"
)

// pollInterval is how often a job asks a service that is not up yet.
const pollInterval = 2 * time.Second

// waitFor calls try until it succeeds or timeout passes, and then says
// what it was waiting for and the last error: a job started before its
// service is up waits for it, and one pointed at a service that stays
// down fails with a message a person can act on.
func waitFor(ctx context.Context, timeout time.Duration, what string, try func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := poll.Until(ctx, pollInterval, what, try); err != nil {
		return fmt.Errorf("gave up after %s: %w", timeout, err)
	}
	return nil
}
