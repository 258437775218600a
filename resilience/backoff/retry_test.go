package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

func TestRetryFirstAttemptSucceeds(t *testing.T) {
	h := newHarness()
	s := &script{results: []string{"ok"}, errs: []error{nil}}
	v, err := h.run(t, backoff.RetryConfig{}, s)
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	assert.Equal(t, 1, s.calls)
	assert.Empty(t, h.rec.Events())
	assert.Zero(t, h.waited())
}

func TestRetryUntilSuccess(t *testing.T) {
	h := newHarness()
	s := &script{results: []string{"", "", "ok"}, errs: []error{errBoom, errBoom, nil}}
	r := h.retry(t, backoff.RetryConfig{Name: "bank", MaxAttempts: 5})
	v, err := resilience.NewPipeline[string](r).Execute(context.Background(), s.fn)
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	assert.Equal(t, 3, s.calls)
	assert.Equal(t, 2*time.Second, h.waited())
	events := h.rec.Events()
	require.Len(t, events, 2)
	for i, e := range events {
		assert.Equal(t, resilience.EventRetry, e.Kind)
		assert.Equal(t, "retry", e.Policy)
		assert.Equal(t, "bank", e.Name)
		assert.Equal(t, i+2, e.Attempt, "event %d", i)
		assert.Equal(t, time.Second, e.Delay)
		assert.Equal(t, errBoom, e.Err)
		assert.Equal(t, time.Unix(int64(i), 0), e.Time, "event %d comes before its wait", i)
	}
	assert.Equal(t, backoff.RetrySnapshot{Name: "bank", Retries: 2, SuccessfulWithRetry: 1}, r.Snapshot())
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	h := newHarness()
	s := &script{errs: []error{errBoom}}
	r := h.retry(t, backoff.RetryConfig{MaxAttempts: 4})
	_, err := resilience.NewPipeline[string](r).Execute(context.Background(), s.fn)
	assert.Equal(t, 4, s.calls)
	var re *backoff.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 4, re.Attempts)
	assert.ErrorIs(t, err, errBoom)
	assert.ErrorIs(t, err, backoff.ErrMaxAttempts)
	assert.Equal(t, "backoff: 4 attempts, attempts exhausted: boom", err.Error())
	assert.Len(t, h.rec.Events(), 3)
	assert.Equal(t, backoff.RetrySnapshot{Retries: 3, Exhausted: 1, FailedWithRetry: 1}, r.Snapshot())
}

// The zero config, and the zero Retry, mean three attempts.
func TestRetryDefaultsToThreeAttempts(t *testing.T) {
	for name, r := range map[string]*backoff.Retry{
		"zero config": newRetry(t, backoff.RetryConfig{Strategy: backoff.Constant(0)}),
		"zero Retry":  {},
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			err := resilience.Run(context.Background(), func(context.Context) error { calls++; return errBoom }, r)
			assert.ErrorIs(t, err, backoff.ErrMaxAttempts)
			assert.Equal(t, backoff.DefaultMaxAttempts, calls)
		})
	}
}

func TestRetryPermanentStopsAtOnce(t *testing.T) {
	h := newHarness()
	inner := fmt.Errorf("declined: %w", errBoom)
	s := &script{errs: []error{backoff.Permanent(inner)}}
	_, err := h.run(t, backoff.RetryConfig{MaxAttempts: 5}, s)
	assert.Equal(t, 1, s.calls)
	assert.ErrorIs(t, err, errBoom)
	assert.True(t, backoff.IsPermanent(err))
	var re *backoff.RetryError
	require.ErrorAs(t, err, &re)
	assert.Nil(t, re.Stop)
	assert.Equal(t, "backoff: 1 attempt: declined: boom", err.Error())
	assert.Empty(t, h.rec.Events())
}

func TestPermanentNil(t *testing.T) {
	assert.NoError(t, backoff.Permanent(nil))
	assert.Equal(t, "backoff: permanent error", (&backoff.PermanentError{}).Error(), "a zero value does not panic")
}

// asPermanent finds a permanent error by its own As method only.
type asPermanent struct{}

func (asPermanent) Error() string { return "custom" }
func (asPermanent) As(target any) bool {
	p, ok := target.(**backoff.PermanentError)
	if ok {
		*p = &backoff.PermanentError{Err: errBoom}
	}
	return ok
}

func TestIsPermanent(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errBoom, false},
		{"marked", backoff.Permanent(errBoom), true},
		{"wrapped", fmt.Errorf("bank: %w", backoff.Permanent(errBoom)), true},
		{"joined", errors.Join(errBoom, fmt.Errorf("x: %w", backoff.Permanent(errBoom))), true},
		{"joined without", errors.Join(errBoom, context.Canceled), false},
		{"own As method", fmt.Errorf("y: %w", asPermanent{}), true},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, backoff.IsPermanent(c.err), c.name)
	}
}

func TestRetryIfDecidesOnErrors(t *testing.T) {
	errDeclined := errors.New("declined")
	retryIf := func(_ context.Context, err error) bool { return !errors.Is(err, errDeclined) }
	t.Run("retried", func(t *testing.T) {
		h := newHarness()
		s := &script{results: []string{"", "200"}, errs: []error{errBoom, nil}}
		v, err := h.run(t, backoff.RetryConfig{RetryIf: retryIf}, s)
		require.NoError(t, err)
		assert.Equal(t, "200", v)
		assert.Equal(t, 2, s.calls)
	})
	t.Run("not retried", func(t *testing.T) {
		h := newHarness()
		s := &script{errs: []error{errDeclined}}
		_, err := h.run(t, backoff.RetryConfig{RetryIf: retryIf}, s)
		assert.ErrorIs(t, err, errDeclined)
		assert.Equal(t, 1, s.calls)
		assert.Empty(t, h.rec.Events())
	})
}

func TestRetryAfterHints(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		cap       time.Duration
		calls     int
		waited    time.Duration
		stopIsNil bool
	}{
		{"failure hint longer than delay", resilience.WithRetryAfter(errBoom, 3*time.Second), 0, 2, 3 * time.Second, false},
		{"failure hint shorter than delay", resilience.WithRetryAfter(errBoom, time.Millisecond), 0, 2, time.Second, false},
		{"failure hint capped", resilience.WithRetryAfter(errBoom, time.Hour), 5 * time.Second, 2, 5 * time.Second, false},
		{"failure hint capped by default", resilience.WithRetryAfter(errBoom, time.Hour), 0, 2, backoff.DefaultMaxRetryAfter, false},
		{"rejection without hint", resilience.Reject("breaker", "bank", errBoom, 0), 0, 1, 0, true},
		{"rejection with hint", resilience.Reject("breaker", "bank", errBoom, 2*time.Second), 0, 2, 2 * time.Second, false},
		{"rejection hint above cap", resilience.Reject("breaker", "bank", errBoom, time.Minute), 0, 1, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness()
			s := &script{errs: []error{c.err}}
			_, err := h.run(t, backoff.RetryConfig{MaxAttempts: 2, MaxRetryAfter: c.cap}, s)
			assert.Equal(t, c.calls, s.calls)
			assert.Equal(t, c.waited, h.waited())
			assert.ErrorIs(t, err, errBoom)
			var re *backoff.RetryError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, c.stopIsNil, re.Stop == nil, "stop %v", re.Stop)
		})
	}
}

func TestRetryMaxDuration(t *testing.T) {
	h := newHarness()
	s := &script{errs: []error{errBoom}}
	_, err := h.run(t, backoff.RetryConfig{MaxAttempts: backoff.Unlimited, MaxDuration: 3500 * time.Millisecond}, s)
	assert.ErrorIs(t, err, backoff.ErrMaxDuration)
	assert.Equal(t, 4, s.calls, "waits at 1s, 2s, 3s fit; the one ending at 4s does not")
	assert.Equal(t, 3*time.Second, h.waited())
}

func TestRetryNeverRetriesCallerCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := newHarness()
	r := h.retry(t, backoff.RetryConfig{})
	p := resilience.NewPipeline[string](r)
	calls := 0
	t.Run("function returns the context error", func(t *testing.T) {
		_, err := p.Execute(ctx, func(ctx context.Context) (string, error) {
			calls++
			cancel()
			return "", ctx.Err()
		})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, resilience.Ignored, resilience.DefaultOutcome(ctx, err), "still the caller's cancellation")
		assert.Equal(t, 1, calls)
	})
	t.Run("function returns another error after the caller gave up", func(t *testing.T) {
		calls = 0
		_, err := p.Execute(ctx, func(context.Context) (string, error) { calls++; return "", errBoom })
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errBoom)
		assert.Equal(t, 1, calls)
	})
	assert.Empty(t, h.rec.Events())
	assert.Zero(t, r.Snapshot().Exhausted, "the caller's cancellation is not an exhausted retry")
}

// A context error that is not the caller's (an inner timeout) is an
// ordinary failure, and is retried.
func TestRetryRetriesInnerTimeout(t *testing.T) {
	h := newHarness()
	s := &script{errs: []error{context.DeadlineExceeded, nil}}
	_, err := h.run(t, backoff.RetryConfig{}, s)
	require.NoError(t, err)
	assert.Equal(t, 2, s.calls)
}

func TestRetryPanicPropagatesUnchanged(t *testing.T) {
	r := newRetry(t, backoff.RetryConfig{MaxAttempts: 5, Strategy: backoff.Constant(0)})
	calls := 0
	boom := &struct{ msg string }{"boom"}
	defer func() {
		assert.Same(t, boom, recover())
		assert.Equal(t, 2, calls, "a panic is not retried")
	}()
	_, _ = resilience.Execute(context.Background(), func(context.Context) (int, error) {
		calls++
		if calls == 2 {
			panic(boom)
		}
		return 0, errBoom
	}, r)
	t.Fatal("unreachable: the panic must reach the caller")
}

func TestRetryBudgetExhausted(t *testing.T) {
	b, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 1e-9, MinPerSecond: 0.1, Clock: clock.NewMock()})
	require.NoError(t, err) // a floor of 0.1/s over 10s: one retry
	h := newHarness()
	cfg := backoff.RetryConfig{MaxAttempts: 3, Budget: b}

	s := &script{errs: []error{errBoom}}
	_, err = h.run(t, cfg, s)
	assert.Equal(t, 2, s.calls, "the one retry of the budget, then refused")
	assert.ErrorIs(t, err, backoff.ErrBudgetExhausted)
	assert.ErrorIs(t, err, errBoom)

	s = &script{errs: []error{errBoom}}
	_, err = h.run(t, cfg, s)
	assert.Equal(t, 1, s.calls)
	assert.ErrorIs(t, err, backoff.ErrBudgetExhausted)
	assert.Equal(t, backoff.BudgetSnapshot{Requests: 2, Retries: 1, Refusals: 2, Window: backoff.DefaultBudgetWindow}, b.Snapshot())
}

func TestRetryNilFuncAndNilRetry(t *testing.T) {
	_, err := resilience.NewPipeline[int](newRetry(t, backoff.RetryConfig{})).Execute(context.Background(), nil)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)

	var r *backoff.Retry
	ran := false
	assert.NotPanics(t, func() {
		err = resilience.Run(context.Background(), func(context.Context) error { ran = true; return nil }, r)
	})
	assert.ErrorContains(t, err, "nil *Retry")
	assert.False(t, ran)
	assert.Equal(t, backoff.RetrySnapshot{}, r.Snapshot())
}

func TestNewRetryRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name  string
		cfg   backoff.RetryConfig
		field string
	}{
		{"negative attempts", backoff.RetryConfig{Name: "bank", MaxAttempts: -1}, "MaxAttempts"},
		{"negative duration", backoff.RetryConfig{Name: "bank", MaxDuration: -time.Second}, "MaxDuration"},
		{"negative retry-after cap", backoff.RetryConfig{Name: "bank", MaxRetryAfter: -1}, "MaxRetryAfter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := backoff.NewRetry(c.cfg)
			assert.Nil(t, r)
			requireConfigError(t, err, "bank", c.field, "must not be negative")
		})
	}
}

func TestRetryErrorText(t *testing.T) {
	cases := []struct {
		err  *backoff.RetryError
		want string
	}{
		{&backoff.RetryError{Attempts: 1, Err: errBoom}, "backoff: 1 attempt: boom"},
		{&backoff.RetryError{Attempts: 2, Err: errBoom, Stop: backoff.ErrDeadline}, "backoff: 2 attempts, next wait would pass the context deadline: boom"},
		{&backoff.RetryError{Attempts: 2, Err: context.Canceled, Stop: context.Canceled}, "backoff: 2 attempts: context canceled"},
		{&backoff.RetryError{Attempts: 3, Stop: backoff.ErrMaxAttempts}, "backoff: 3 attempts, attempts exhausted"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.err.Error())
		for _, inner := range []error{c.err.Err, c.err.Stop} {
			if inner != nil {
				assert.ErrorIs(t, c.err, inner)
			}
		}
	}
}

// recordingStrategy waits attempt seconds and records what it was asked.
type recordingStrategy struct{ attempts, prevs []time.Duration }

func (s *recordingStrategy) Delay(attempt int, prev time.Duration) time.Duration {
	s.attempts = append(s.attempts, time.Duration(attempt))
	s.prevs = append(s.prevs, prev)
	return time.Duration(attempt) * time.Second
}

// The strategy is asked for attempts 1, 2, 3 and gets back its own previous
// delay as prev, not the wait a Retry-After hint lengthened.
func TestRetryFeedsStrategyItsOwnDelays(t *testing.T) {
	h := newHarness()
	rs := &recordingStrategy{}
	s := &script{errs: []error{resilience.WithRetryAfter(errBoom, 9*time.Second), errBoom, errBoom, nil}}
	_, err := h.run(t, backoff.RetryConfig{MaxAttempts: 4, Strategy: rs}, s)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{1, 2, 3}, rs.attempts)
	assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second}, rs.prevs)
	assert.Equal(t, (9+2+3)*time.Second, h.waited())
}

// One retry serves many goroutines at once, each running its own closure
// through one pipeline; each call keeps its own attempt count (the race
// detector checks the sharing).
func TestRetryConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	attempts := map[int]int{}
	r := newRetry(t, backoff.RetryConfig{
		MaxAttempts: 3, Strategy: backoff.Constant(0),
		Listeners: resilience.Listeners{resilience.OnKinds(func(e resilience.Event) {
			mu.Lock()
			attempts[e.Attempt]++
			mu.Unlock()
		}, resilience.EventRetry)},
	})
	p := resilience.NewPipeline[int](r)
	const goroutines = 8
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			n := 0 // per call, in the closure
			v, err := p.Execute(context.Background(), func(context.Context) (int, error) {
				n++
				if n < 3 {
					return 0, errBoom
				}
				return n, nil
			})
			assert.NoError(t, err)
			assert.Equal(t, 3, v)
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{2: goroutines, 3: goroutines}, attempts)
	assert.Equal(t, uint64(2*goroutines), r.Snapshot().Retries)
}

// Retry events are per-call: a listener of state changes only is never
// called and costs the call nothing (the event is not even built: no clock
// read for its Time); one of retries gets them.
func TestRetryEventsOnlyForSubscribers(t *testing.T) {
	retried := func(l resilience.Listener) int64 {
		clk := &countingClock{skipClock: skipClock{clock.NewMock()}}
		r := newRetry(t, backoff.RetryConfig{MaxAttempts: 2, Strategy: backoff.Constant(time.Second), Clock: clk,
			Listeners: resilience.Listeners{l}})
		err := resilience.Run(context.Background(), func(context.Context) error { return errBoom }, r)
		require.ErrorIs(t, err, backoff.ErrMaxAttempts)
		return clk.nows.Load()
	}
	states, retries := resiliencetest.NewRecorder(), resiliencetest.NewRecorder()
	assert.Zero(t, retried(only(states.Listener(), resilience.EventStateChange)), "clock reads with a state-change listener")
	assert.Equal(t, int64(1), retried(only(retries.Listener(), resilience.EventRetry)), "clock reads with a retry listener")
	assert.Empty(t, states.Events())
	assert.Len(t, retries.Events(), 1)
}

// countingClock is a skipClock that counts the reads of its time.
type countingClock struct {
	skipClock
	nows atomic.Int64
}

func (c *countingClock) Now() time.Time {
	c.nows.Add(1)
	return c.skipClock.Now()
}

// Every call ends in exactly one of the four kinds metrics read.
func TestRetryCountsCallsByKind(t *testing.T) {
	h := newHarness()
	r := h.retry(t, backoff.RetryConfig{MaxAttempts: 2})
	p := resilience.NewPipeline[string](r)
	run := func(errs ...error) {
		s := &script{errs: errs}
		_, _ = p.Execute(context.Background(), s.fn)
	}
	run(nil)                             // succeeds at once
	run(errBoom, nil)                    // fails once, then succeeds
	run(errBoom, errBoom)                // fails twice: out of attempts
	run(backoff.Permanent(errBoom))      // not retryable
	run(backoff.Permanent(errBoom), nil) // not retryable either
	s := r.Snapshot()
	assert.Equal(t, uint64(1), s.SuccessfulWithoutRetry)
	assert.Equal(t, uint64(1), s.SuccessfulWithRetry)
	assert.Equal(t, uint64(2), s.FailedWithoutRetry)
	assert.Equal(t, uint64(1), s.FailedWithRetry)
}
