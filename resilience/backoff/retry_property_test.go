package backoff_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// Whatever the schedule, hints and failures, the function runs at most
// MaxAttempts times, the waits add up to no more than MaxDuration, and a
// final error says exactly how many attempts ran.
func TestRetryRespectsAttemptsAndDuration(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxAttempts := rapid.IntRange(1, 8).Draw(t, "maxAttempts")
		maxDuration := time.Duration(rapid.Int64Range(0, int64(20*time.Second)).Draw(t, "maxDuration"))
		strategy := resilience.Must(backoff.NewExponential(backoff.ExponentialConfig{
			Initial: time.Duration(rapid.Int64Range(1, int64(3*time.Second)).Draw(t, "initial")),
			Max:     10 * time.Second,
			Jitter:  rapid.SampledFrom(jitters).Draw(t, "jitter"),
			Source:  rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0),
		}))
		// Each attempt's outcome, drawn up front: success, a failure, a
		// failure with a Retry-After hint, or a rejection with one.
		outcomes := rapid.SliceOfN(rapid.IntRange(0, 3), maxAttempts, maxAttempts).Draw(t, "outcomes")
		hints := rapid.SliceOfN(rapid.Int64Range(1, int64(time.Minute)), maxAttempts, maxAttempts).Draw(t, "hints")

		clk := skipClock{clock.NewMock()}
		p, err := backoff.NewRetry(backoff.RetryConfig[int]{
			MaxAttempts: maxAttempts, MaxDuration: maxDuration, Strategy: strategy, Clock: clk,
		})
		require.NoError(t, err)
		calls := 0
		_, err = p.Wrap(func(context.Context) (int, error) {
			i := min(calls, maxAttempts-1)
			calls++
			hint := time.Duration(hints[i])
			switch outcomes[i] {
			case 1:
				return 0, errBoom
			case 2:
				return 0, resilience.WithRetryAfter(errBoom, hint)
			case 3:
				return 0, resilience.Reject("breaker", "", errBoom, hint)
			}
			return calls, nil
		})(context.Background())

		waited := clk.Now().Sub(time.Unix(0, 0))
		if calls > maxAttempts {
			t.Fatalf("%d calls, MaxAttempts %d", calls, maxAttempts)
		}
		if maxDuration > 0 && waited > maxDuration {
			t.Fatalf("waited %v, MaxDuration %v", waited, maxDuration)
		}
		if err == nil {
			if outcomes[calls-1] != 0 {
				t.Fatalf("nil error after a failing attempt %d", calls)
			}
			return
		}
		var re *backoff.RetryError
		if !errors.As(err, &re) || re.Attempts != calls || !errors.Is(err, errBoom) {
			t.Fatalf("error %v after %d calls", err, calls)
		}
	})
}
