package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// pollInterval is how often a job asks a service that is not up yet.
const pollInterval = 2 * time.Second

// waitFor calls try until it succeeds or timeout passes, and then says
// what it was waiting for and the last error: a job started before its
// service is up waits for it, and one pointed at a service that stays
// down fails with a message a person can act on.
func waitFor(ctx context.Context, timeout time.Duration, what string, try func(context.Context) error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		last = try(ctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("%s: gave up after %s: %w", what, timeout, errors.Join(last, err))
	}
	return nil
}
