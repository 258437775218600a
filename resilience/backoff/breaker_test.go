package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

var errOpen = errors.New("breaker: circuit open")

// fakeBreaker opens after trip consecutive failures and rejects, with the
// time left as its Retry-After, until openFor has passed on clk; then it
// admits calls again. It stands for breaker.Breaker, whose package this
// one must not import.
type fakeBreaker struct {
	clk       clock.Clock
	trip      int
	openFor   time.Duration
	failures  int
	openUntil time.Time
	admitted  int
	outcomes  []resilience.Outcome
}

func (b *fakeBreaker) Guard(ctx context.Context, next resilience.Next) error {
	if now := b.clk.Now(); now.Before(b.openUntil) {
		return resilience.Reject("breaker", "bank", errOpen, b.openUntil.Sub(now))
	}
	b.admitted++
	err := next.Run(ctx)
	o := resilience.DefaultOutcome(ctx, err)
	b.outcomes = append(b.outcomes, o)
	switch o {
	case resilience.Failure:
		if b.failures++; b.failures >= b.trip {
			b.openUntil = b.clk.Now().Add(b.openFor)
			b.failures = 0
		}
	case resilience.Success:
		b.failures = 0
	}
	return err
}

// A breaker inside the retry that opens, with an open time longer than
// MaxRetryAfter, ends the retries at once: no wait after the rejection, no
// further call, and the caller sees a rejection.
func TestRetryStopsAtOnceWhenAnInnerBreakerOpens(t *testing.T) {
	h := newHarness()
	br := &fakeBreaker{clk: h.clk, trip: 2, openFor: time.Minute}
	s := &script{errs: []error{errBoom}}
	r := h.retry(t, backoff.RetryConfig{MaxAttempts: 5})
	_, err := resilience.NewPipeline[string](r, br).Execute(context.Background(), s.fn)

	assert.Equal(t, 2, s.calls, "the dependency saw the two attempts that opened the breaker")
	assert.Equal(t, 2*time.Second, h.waited(), "a wait after each failure; none after the rejection")
	assert.True(t, resilience.IsRejected(err), "the caller learns the last attempt was not made")
	assert.ErrorIs(t, err, errOpen)
	var re *backoff.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 3, re.Attempts)
	assert.Nil(t, re.Stop, "the rejection itself was not retryable")
	assert.Equal(t, resilience.Ignored, resilience.DefaultOutcome(context.Background(), err),
		"an outer breaker does not count the rejection against the dependency")
}

// An inner breaker that will admit a probe within MaxRetryAfter is waited
// out: the retry sleeps its Retry-After and the next attempt is the probe.
func TestRetryWaitsOutAnInnerBreakerThatReopensSoon(t *testing.T) {
	h := newHarness()
	br := &fakeBreaker{clk: h.clk, trip: 2, openFor: 5 * time.Second}
	s := &script{results: []string{"", "", "receipt"}, errs: []error{errBoom, errBoom, nil}}
	r := h.retry(t, backoff.RetryConfig{MaxAttempts: 4})
	v, err := resilience.NewPipeline[string](r, br).Execute(context.Background(), s.fn)
	require.NoError(t, err)
	assert.Equal(t, "receipt", v)
	assert.Equal(t, 3, s.calls)
	assert.Equal(t, (1+1+4)*time.Second, h.waited(), "1s after each failure, then the 1s delay lengthened to the 4s left open")
}

// An open time that fits MaxRetryAfter but not the time left ends the
// retries at once too, without waiting.
func TestRetryStopsWhenTheBreakerReopensTooLate(t *testing.T) {
	t.Run("past MaxDuration", func(t *testing.T) {
		h := newHarness()
		br := &fakeBreaker{clk: h.clk, trip: 1, openFor: 8 * time.Second}
		s := &script{errs: []error{errBoom}}
		r := h.retry(t, backoff.RetryConfig{MaxAttempts: 5, MaxDuration: 5 * time.Second})
		_, err := resilience.NewPipeline[string](r, br).Execute(context.Background(), s.fn)
		assert.Equal(t, 1, s.calls)
		assert.ErrorIs(t, err, backoff.ErrMaxDuration)
		assert.True(t, resilience.IsRejected(err), "the rejection stays visible")
		assert.Equal(t, time.Second, h.waited(), "no wait after the rejection")
	})
	t.Run("past the caller's deadline", func(t *testing.T) {
		h := newHarness()
		br := &fakeBreaker{clk: h.clk, trip: 1, openFor: 8 * time.Second}
		s := &script{errs: []error{errBoom}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r := h.retry(t, backoff.RetryConfig{MaxAttempts: 5, Strategy: backoff.Constant(0)})
		_, err := resilience.NewPipeline[string](r, br).Execute(ctx, s.fn)
		assert.Equal(t, 1, s.calls)
		assert.ErrorIs(t, err, backoff.ErrDeadline)
		assert.True(t, resilience.IsRejected(err))
		assert.Zero(t, h.waited())
	})
	t.Run("budget spent", func(t *testing.T) {
		h := newHarness()
		budget, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 1e-9, MinPerSecond: 0.1, Clock: clock.NewMock()})
		require.NoError(t, err) // one retry
		br := &fakeBreaker{clk: h.clk, trip: 1, openFor: 2 * time.Second}
		s := &script{errs: []error{errBoom}}
		r := h.retry(t, backoff.RetryConfig{MaxAttempts: 5, Budget: budget, Strategy: backoff.Constant(0)})
		_, err = resilience.NewPipeline[string](r, br).Execute(context.Background(), s.fn)
		assert.Equal(t, 1, s.calls, "the one retry went to the rejection")
		assert.ErrorIs(t, err, backoff.ErrBudgetExhausted)
	})
}

// A breaker outside the retry sees one outcome per call, after all its
// attempts, and an open one refuses before any attempt.
func TestBreakerOutsideTheRetrySeesOneOutcomePerCall(t *testing.T) {
	h := newHarness()
	br := &fakeBreaker{clk: h.clk, trip: 2, openFor: time.Minute}
	p := resilience.NewPipeline[string](br, h.retry(t, backoff.RetryConfig{MaxAttempts: 3}))

	s := &script{results: []string{"", "ok"}, errs: []error{errBoom, nil}}
	_, err := p.Execute(context.Background(), s.fn)
	require.NoError(t, err)
	s = &script{errs: []error{errBoom}}
	for range 2 {
		_, err = p.Execute(context.Background(), s.fn)
		require.ErrorIs(t, err, backoff.ErrMaxAttempts)
	}
	assert.Equal(t, []resilience.Outcome{resilience.Success, resilience.Failure, resilience.Failure}, br.outcomes)
	assert.Equal(t, 6, s.calls, "three attempts for each of the two failed calls")

	_, err = p.Execute(context.Background(), s.fn)
	assert.ErrorIs(t, err, errOpen)
	assert.Equal(t, 6, s.calls, "the open breaker refused before any attempt")
}

// admitOf is the look at fakeBreaker that Admit takes: its rejection while
// open, without admitting anything.
func (b *fakeBreaker) admitOf(context.Context) error {
	if now := b.clk.Now(); now.Before(b.openUntil) {
		return resilience.Reject("breaker", "bank", errOpen, b.openUntil.Sub(now))
	}
	return nil
}

// With Admit, a retry whose inner breaker opened on the last attempt stops
// before the wait instead of after it, and its error keeps the attempt's
// failure rather than a rejection: that attempt may have reached the
// dependency.
func TestAdmitStopsBeforeTheWait(t *testing.T) {
	h := newHarness()
	br := &fakeBreaker{clk: h.clk, trip: 2, openFor: time.Minute}
	s := &script{errs: []error{errBoom}}
	r := h.retry(t, backoff.RetryConfig{MaxAttempts: 5, Admit: br.admitOf})
	_, err := resilience.NewPipeline[string](r, br).Execute(context.Background(), s.fn)

	assert.Equal(t, 2, s.calls)
	assert.Equal(t, time.Second, h.waited(), "the wait after the first failure only")
	assert.ErrorIs(t, err, backoff.ErrRefusedAhead)
	assert.ErrorIs(t, err, errBoom)
	assert.NotErrorIs(t, err, errOpen, "the refusal is told as text")
	assert.False(t, resilience.IsRejected(err), "the last attempt reached the dependency: not a rejection")
	assert.Contains(t, err.Error(), "circuit open")
	var re *backoff.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 2, re.Attempts)
}

// Admit's rejection with a hint within MaxRetryAfter lengthens the wait,
// as an attempt's would; a nil answer changes nothing.
func TestAdmitHintWithinTheCapIsWaitedOut(t *testing.T) {
	h := newHarness()
	br := &fakeBreaker{clk: h.clk, trip: 2, openFor: 5 * time.Second}
	s := &script{results: []string{"", "", "receipt"}, errs: []error{errBoom, errBoom, nil}}
	r := h.retry(t, backoff.RetryConfig{MaxAttempts: 4, Admit: br.admitOf})
	v, err := resilience.NewPipeline[string](r, br).Execute(context.Background(), s.fn)
	require.NoError(t, err)
	assert.Equal(t, "receipt", v)
	assert.Equal(t, (1+5)*time.Second, h.waited(), "1s after the first failure, then the 5s the breaker stays open")
	assert.Equal(t, 3, br.admitted, "no attempt was refused")
}

// An Admit that refuses without a hint, or with one past MaxRetryAfter,
// stops; one that is not a rejection at all stops too.
func TestAdmitRefusalsThatStop(t *testing.T) {
	for name, refusal := range map[string]error{
		"no hint":         resilience.Reject("bulkhead", "bank", errOpen, 0),
		"hint too long":   resilience.Reject("breaker", "bank", errOpen, time.Hour),
		"not a rejection": errors.New("health: bank is down"),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness()
			s := &script{errs: []error{errBoom}}
			admit := func(context.Context) error { return refusal }
			_, err := h.run(t, backoff.RetryConfig{MaxAttempts: 3, MaxRetryAfter: time.Minute, Admit: admit}, s)
			assert.Equal(t, 1, s.calls)
			assert.Zero(t, h.waited())
			assert.ErrorIs(t, err, backoff.ErrRefusedAhead)
		})
	}
}
