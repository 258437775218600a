package backoff_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// Outcomes an attempt can have in the property test.
const (
	succeeds = iota
	fails
	failsWithHint
	rejected
	badResult // a result the classifier judges a failure, without an error
	outcomeKinds
)

// Whatever the schedule, hints, failures and judged results, the call runs
// at most MaxAttempts times, the waits add up to no more than MaxDuration,
// a nil error means the last attempt succeeded, and a final error says
// exactly how many attempts ran and wraps the last attempt's error.
func TestRetryRespectsAttemptsAndDuration(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxAttempts := rapid.IntRange(1, 8).Draw(t, "maxAttempts")
		maxDuration := time.Duration(rapid.Int64Range(0, int64(20*time.Second)).Draw(t, "maxDuration"))
		strategy := newExponential(t, backoff.ExponentialConfig{
			Initial: time.Duration(rapid.Int64Range(1, int64(3*time.Second)).Draw(t, "initial")),
			Max:     10 * time.Second,
			Jitter:  rapid.SampledFrom(jitters).Draw(t, "jitter"),
			Source:  rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0),
		})
		// Each attempt's outcome, drawn up front.
		outcomes := rapid.SliceOfN(rapid.IntRange(0, outcomeKinds-1), maxAttempts, maxAttempts).Draw(t, "outcomes")
		hints := rapid.SliceOfN(rapid.Int64Range(1, int64(time.Minute)), maxAttempts, maxAttempts).Draw(t, "hints")

		clk := skipClock{clock.NewMock()}
		r := newRetry(t, backoff.RetryConfig{
			MaxAttempts: maxAttempts, MaxDuration: maxDuration, Strategy: strategy, Clock: clk,
		})
		p := resilience.NewPipeline[int](r).WithClassifier(func(_ context.Context, v int, err error) resilience.Outcome {
			if err == nil && v < 0 {
				return resilience.Failure
			}
			return resilience.Unclassified
		})
		calls := 0
		v, err := p.Execute(context.Background(), func(context.Context) (int, error) {
			i := min(calls, maxAttempts-1)
			calls++
			hint := time.Duration(hints[i])
			switch outcomes[i] {
			case fails:
				return 0, errBoom
			case failsWithHint:
				return 0, resilience.WithRetryAfter(errBoom, hint)
			case rejected:
				return 0, resilience.Reject("breaker", "", errBoom, hint)
			case badResult:
				return -1, nil
			}
			return calls, nil
		})

		waited := clk.Now().Sub(time.Unix(0, 0))
		if calls > maxAttempts {
			t.Fatalf("%d calls, MaxAttempts %d", calls, maxAttempts)
		}
		if maxDuration > 0 && waited > maxDuration {
			t.Fatalf("waited %v, MaxDuration %v", waited, maxDuration)
		}
		last := outcomes[calls-1]
		if err == nil {
			// A last result judged a failure reaches the caller as the
			// result itself, with no error (see resilience.Pipeline).
			if !(last == succeeds && v == calls) && !(last == badResult && v == -1) {
				t.Fatalf("result %d, nil error after attempt %d with outcome %d", v, calls, last)
			}
			return
		}
		var re *backoff.RetryError
		if !errors.As(err, &re) || re.Attempts != calls {
			t.Fatalf("error %v after %d calls", err, calls)
		}
		var j *resilience.Judged
		if last == badResult && !errors.As(err, &j) || last != badResult && !errors.Is(err, errBoom) {
			t.Fatalf("error %v does not wrap the last attempt's (outcome %d)", err, last)
		}
	})
}
