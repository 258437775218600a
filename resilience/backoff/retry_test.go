package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

var errBoom = errors.New("boom")

// script is a guarded function that returns its outcomes in order, and the
// last one forever after; it records the attempts it saw.
type script[T any] struct {
	results []T
	errs    []error
	calls   int
}

func (s *script[T]) fn(context.Context) (T, error) {
	i := min(s.calls, len(s.errs)-1)
	s.calls++
	var v T
	if i < len(s.results) {
		v = s.results[i]
	}
	return v, s.errs[i]
}

// harness builds a retry on a skipping mock clock and records its events.
type harness struct {
	clk    skipClock
	events []resilience.Event
}

func newHarness() *harness { return &harness{clk: skipClock{clock.NewMock()}} }

func (h *harness) waited() time.Duration { return h.clk.Now().Sub(time.Unix(0, 0)) }

func (h *harness) config(cfg backoff.RetryConfig[string]) backoff.RetryConfig[string] {
	cfg.Clock = h.clk
	cfg.Listeners = append(cfg.Listeners, func(e resilience.Event) { h.events = append(h.events, e) })
	if cfg.Strategy == nil {
		cfg.Strategy = mustConstant(time.Second)
	}
	return cfg
}

func (h *harness) run(t *testing.T, cfg backoff.RetryConfig[string], s *script[string]) (string, error) {
	t.Helper()
	p, err := backoff.NewRetry(h.config(cfg))
	require.NoError(t, err)
	return p.Wrap(s.fn)(context.Background())
}

func mustConstant(d time.Duration) backoff.Strategy {
	return resilience.Must(backoff.Constant(d))
}

func TestRetryFirstAttemptSucceeds(t *testing.T) {
	h := newHarness()
	s := &script[string]{results: []string{"ok"}, errs: []error{nil}}
	v, err := h.run(t, backoff.RetryConfig[string]{}, s)
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	assert.Equal(t, 1, s.calls)
	assert.Empty(t, h.events)
	assert.Zero(t, h.waited())
}

func TestRetryUntilSuccess(t *testing.T) {
	h := newHarness()
	s := &script[string]{results: []string{"", "", "ok"}, errs: []error{errBoom, errBoom, nil}}
	v, err := h.run(t, backoff.RetryConfig[string]{Name: "bank", MaxAttempts: 5}, s)
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	assert.Equal(t, 3, s.calls)
	assert.Equal(t, 2*time.Second, h.waited())
	require.Len(t, h.events, 2)
	for i, e := range h.events {
		assert.Equal(t, resilience.EventRetry, e.Kind)
		assert.Equal(t, "retry", e.Policy)
		assert.Equal(t, "bank", e.Name)
		assert.Equal(t, i+2, e.Attempt, "event %d", i)
		assert.Equal(t, time.Second, e.Delay)
		assert.Equal(t, errBoom, e.Err)
		assert.Equal(t, time.Unix(int64(i), 0), e.Time, "event %d comes before its wait", i)
	}
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	h := newHarness()
	s := &script[string]{errs: []error{errBoom}}
	_, err := h.run(t, backoff.RetryConfig[string]{MaxAttempts: 4}, s)
	assert.Equal(t, 4, s.calls)
	var re *backoff.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 4, re.Attempts)
	assert.ErrorIs(t, err, errBoom)
	assert.ErrorIs(t, err, backoff.ErrMaxAttempts)
	assert.Equal(t, "backoff: 4 attempts, attempts exhausted: boom", err.Error())
	assert.Len(t, h.events, 3)
}

func TestRetryDefaultsToThreeAttempts(t *testing.T) {
	p, err := backoff.NewRetry(backoff.RetryConfig[int]{Strategy: mustConstant(0)})
	require.NoError(t, err)
	calls := 0
	_, err = p.Wrap(func(context.Context) (int, error) { calls++; return 0, errBoom })(context.Background())
	assert.ErrorIs(t, err, backoff.ErrMaxAttempts)
	assert.Equal(t, backoff.DefaultMaxAttempts, calls)
}

func TestRetryPermanentStopsAtOnce(t *testing.T) {
	h := newHarness()
	inner := fmt.Errorf("declined: %w", errBoom)
	s := &script[string]{errs: []error{backoff.Permanent(inner)}}
	_, err := h.run(t, backoff.RetryConfig[string]{MaxAttempts: 5}, s)
	assert.Equal(t, 1, s.calls)
	assert.ErrorIs(t, err, errBoom)
	assert.True(t, backoff.IsPermanent(err))
	var re *backoff.RetryError
	require.ErrorAs(t, err, &re)
	assert.Nil(t, re.Stop)
	assert.Equal(t, "backoff: 1 attempt: declined: boom", err.Error())
	assert.Empty(t, h.events)
}

func TestPermanentNil(t *testing.T) {
	assert.NoError(t, backoff.Permanent(nil))
	assert.False(t, backoff.IsPermanent(errBoom))
	assert.Equal(t, "backoff: permanent error", (&backoff.PermanentError{}).Error(), "a zero value does not panic")
}

func TestRetryIfOnResults(t *testing.T) {
	errDeclined := errors.New("declined")
	retryIf := func(_ context.Context, v string, err error) bool {
		return v == "503" || (err != nil && !errors.Is(err, errDeclined))
	}
	t.Run("result without error retried", func(t *testing.T) {
		h := newHarness()
		s := &script[string]{results: []string{"503", "200"}, errs: []error{nil, nil}}
		v, err := h.run(t, backoff.RetryConfig[string]{RetryIf: retryIf}, s)
		require.NoError(t, err)
		assert.Equal(t, "200", v)
		assert.Equal(t, 2, s.calls)
	})
	t.Run("result retried until attempts run out", func(t *testing.T) {
		h := newHarness()
		s := &script[string]{results: []string{"503"}, errs: []error{nil}}
		v, err := h.run(t, backoff.RetryConfig[string]{RetryIf: retryIf, MaxAttempts: 2}, s)
		assert.Equal(t, "503", v, "the last result comes back with the error")
		assert.ErrorIs(t, err, backoff.ErrMaxAttempts)
		assert.Equal(t, 2, s.calls)
	})
	t.Run("error not retried", func(t *testing.T) {
		h := newHarness()
		s := &script[string]{errs: []error{errDeclined}}
		_, err := h.run(t, backoff.RetryConfig[string]{RetryIf: retryIf}, s)
		assert.ErrorIs(t, err, errDeclined)
		assert.Equal(t, 1, s.calls)
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
			s := &script[string]{errs: []error{c.err}}
			_, err := h.run(t, backoff.RetryConfig[string]{MaxAttempts: 2, MaxRetryAfter: c.cap}, s)
			assert.Equal(t, c.calls, s.calls)
			assert.Equal(t, c.waited, h.waited())
			assert.ErrorIs(t, err, errBoom)
			var re *backoff.RetryError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, c.stopIsNil, re.Stop == nil, "stop %v", re.Stop)
		})
	}
}

func TestRetryRejectionHintBeyondMaxDuration(t *testing.T) {
	h := newHarness()
	s := &script[string]{errs: []error{resilience.Reject("ratelimit", "", errBoom, 8*time.Second)}}
	_, err := h.run(t, backoff.RetryConfig[string]{MaxDuration: 5 * time.Second}, s)
	assert.Equal(t, 1, s.calls)
	assert.ErrorIs(t, err, backoff.ErrMaxDuration)
	assert.True(t, resilience.IsRejected(err), "the rejection stays visible")
}

func TestRetryMaxDuration(t *testing.T) {
	h := newHarness()
	s := &script[string]{errs: []error{errBoom}}
	_, err := h.run(t, backoff.RetryConfig[string]{MaxAttempts: backoff.Unlimited, MaxDuration: 3500 * time.Millisecond}, s)
	assert.ErrorIs(t, err, backoff.ErrMaxDuration)
	assert.Equal(t, 4, s.calls, "waits at 1s, 2s, 3s fit; the one ending at 4s does not")
	assert.Equal(t, 3*time.Second, h.waited())
}

func TestRetryNeverRetriesCallerCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := newHarness()
	p, err := backoff.NewRetry(h.config(backoff.RetryConfig[string]{}))
	require.NoError(t, err)
	calls := 0
	t.Run("function returns the context error", func(t *testing.T) {
		_, err := p.Wrap(func(ctx context.Context) (string, error) {
			calls++
			cancel()
			return "", ctx.Err()
		})(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 1, calls)
	})
	t.Run("function returns another error after the caller gave up", func(t *testing.T) {
		calls = 0
		_, err := p.Wrap(func(context.Context) (string, error) { calls++; return "", errBoom })(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errBoom)
		assert.Equal(t, 1, calls)
	})
	assert.Empty(t, h.events)
}

// A context error that is not the caller's (an inner timeout) is an
// ordinary failure, and is retried.
func TestRetryRetriesInnerTimeout(t *testing.T) {
	h := newHarness()
	s := &script[string]{errs: []error{context.DeadlineExceeded, nil}}
	_, err := h.run(t, backoff.RetryConfig[string]{}, s)
	require.NoError(t, err)
	assert.Equal(t, 2, s.calls)
}

func TestRetryPanicPropagatesUnchanged(t *testing.T) {
	p, err := backoff.NewRetry(backoff.RetryConfig[int]{MaxAttempts: 5, Strategy: mustConstant(0)})
	require.NoError(t, err)
	calls := 0
	boom := &struct{ msg string }{"boom"}
	f := p.Wrap(func(context.Context) (int, error) {
		calls++
		if calls == 2 {
			panic(boom)
		}
		return 0, errBoom
	})
	defer func() {
		assert.Same(t, boom, recover())
		assert.Equal(t, 2, calls, "a panic is not retried")
	}()
	_, _ = f(context.Background())
	t.Fatal("unreachable: the panic must reach the caller")
}

func TestRetryBudgetExhausted(t *testing.T) {
	b, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 1e-9, MinPerSecond: 0.1, Clock: clock.NewMock()})
	require.NoError(t, err) // a floor of 0.1/s over 10s: one retry
	h := newHarness()
	cfg := backoff.RetryConfig[string]{MaxAttempts: 3, Budget: b}

	s := &script[string]{errs: []error{errBoom}}
	_, err = h.run(t, cfg, s)
	assert.Equal(t, 2, s.calls, "the one retry of the budget, then refused")
	assert.ErrorIs(t, err, backoff.ErrBudgetExhausted)
	assert.ErrorIs(t, err, errBoom)

	s = &script[string]{errs: []error{errBoom}}
	_, err = h.run(t, cfg, s)
	assert.Equal(t, 1, s.calls)
	assert.ErrorIs(t, err, backoff.ErrBudgetExhausted)
	assert.Equal(t, backoff.BudgetSnapshot{Requests: 2, Retries: 1, Refusals: 2}, b.Snapshot())
}

func TestRetryNilFunc(t *testing.T) {
	p, err := backoff.NewRetry(backoff.RetryConfig[int]{})
	require.NoError(t, err)
	_, err = p.Wrap(nil)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

func TestNewRetryRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name  string
		cfg   backoff.RetryConfig[int]
		field string
	}{
		{"negative attempts", backoff.RetryConfig[int]{MaxAttempts: -1}, "MaxAttempts"},
		{"negative duration", backoff.RetryConfig[int]{MaxDuration: -time.Second}, "MaxDuration"},
		{"negative retry-after cap", backoff.RetryConfig[int]{MaxRetryAfter: -1}, "MaxRetryAfter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := backoff.NewRetry(c.cfg)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Regexp(t, `^backoff: `+c.field+` must be ≥ 0, got -`, err.Error())
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
	s := &script[string]{errs: []error{resilience.WithRetryAfter(errBoom, 9*time.Second), errBoom, errBoom, nil}}
	_, err := h.run(t, backoff.RetryConfig[string]{MaxAttempts: 4, Strategy: rs}, s)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{1, 2, 3}, rs.attempts)
	assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second}, rs.prevs)
	assert.Equal(t, (9+2+3)*time.Second, h.waited())
}

// One wrapped function serves many goroutines at once; each call keeps its
// own attempt count and events (the race detector checks the sharing).
func TestRetryConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	attempts := map[int]int{}
	p, err := backoff.NewRetry(backoff.RetryConfig[int]{
		MaxAttempts: 3, Strategy: mustConstant(0),
		Listeners: resilience.Listeners{func(e resilience.Event) {
			mu.Lock()
			attempts[e.Attempt]++
			mu.Unlock()
		}},
	})
	require.NoError(t, err)
	type key struct{}
	f := p.Wrap(func(ctx context.Context) (int, error) {
		n := ctx.Value(key{}).(*int)
		*n++
		if *n < 3 {
			return 0, errBoom
		}
		return *n, nil
	})
	const goroutines = 8
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			n := 0
			v, err := f(context.WithValue(context.Background(), key{}, &n))
			assert.NoError(t, err)
			assert.Equal(t, 3, v)
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{2: goroutines, 3: goroutines}, attempts)
}
