package backoff_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// response stands for an HTTP response: a result that can be a failure
// without an error.
type response struct{ status int }

// statusClassifier judges 5xx responses failures and "not found" errors
// successes (the dependency answered).
var errNotFound = errors.New("account not found")

func statusClassifier(_ context.Context, r response, err error) resilience.Outcome {
	switch {
	case errors.Is(err, errNotFound):
		return resilience.Success
	case err == nil && r.status >= 500:
		return resilience.Failure
	}
	return resilience.Unclassified
}

func responses(statuses ...int) (func(context.Context) (response, error), *int) {
	calls := 0
	return func(context.Context) (response, error) {
		i := min(calls, len(statuses)-1)
		calls++
		return response{statuses[i]}, nil
	}, &calls
}

// A retry on an HTTP 503 response: the pipeline's classifier turns the
// result into a *resilience.Judged failure, which the retry repeats; the
// caller gets the good response.
func TestRetriesAResultJudgedAFailure(t *testing.T) {
	h := newHarness()
	p := resilience.NewPipeline[response](h.retry(t, backoff.RetryConfig{MaxAttempts: 4})).WithClassifier(statusClassifier)
	fn, calls := responses(503, 503, 200)
	r, err := p.Execute(context.Background(), fn)
	require.NoError(t, err)
	assert.Equal(t, response{200}, r)
	assert.Equal(t, 3, *calls)
	events := h.rec.Events()
	require.Len(t, events, 2)
	var j *resilience.Judged
	require.ErrorAs(t, events[0].Err, &j, "the event carries the verdict")
	assert.Equal(t, resilience.Failure, j.Outcome)
}

// When every attempt returns a 503, the retry ends with a *RetryError that
// wraps the verdict, so an outer guard still counts a failure, while the
// caller gets the last response and no error: it must see the 503 to read
// and close it.
func TestResultJudgedAFailureUntilAttemptsRunOut(t *testing.T) {
	h := newHarness()
	var outer resilience.Outcome
	judge := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		err := next.Run(ctx)
		outer = resilience.DefaultOutcome(ctx, err)
		return err
	})
	p := resilience.NewPipeline[response](judge, h.retry(t, backoff.RetryConfig{MaxAttempts: 2})).WithClassifier(statusClassifier)
	fn, calls := responses(503)
	r, err := p.Execute(context.Background(), fn)
	assert.Equal(t, 2, *calls)
	require.NoError(t, err)
	assert.Equal(t, response{status: 503}, r, "the caller gets the last response")
	assert.Equal(t, resilience.Failure, outer)
}

// An error the classifier judged a success is an answer: it is not
// retried, and the caller gets the original error back, unwrapped.
func TestErrorJudgedASuccessIsNotRetried(t *testing.T) {
	h := newHarness()
	p := resilience.NewPipeline[response](h.retry(t, backoff.RetryConfig{MaxAttempts: 4})).WithClassifier(statusClassifier)
	calls := 0
	_, err := p.Execute(context.Background(), func(context.Context) (response, error) {
		calls++
		return response{}, errNotFound
	})
	assert.Same(t, errNotFound, err)
	assert.Equal(t, 1, calls)
	assert.Empty(t, h.rec.Events())
}

// RetryIf sees the verdict as an error and may overrule it.
func TestRetryIfSeesTheVerdict(t *testing.T) {
	h := newHarness()
	var seen []error
	retryIf := func(_ context.Context, err error) bool {
		seen = append(seen, err)
		var j *resilience.Judged
		return errors.As(err, &j) && j.Outcome == resilience.Failure
	}
	p := resilience.NewPipeline[response](h.retry(t, backoff.RetryConfig{RetryIf: retryIf})).WithClassifier(statusClassifier)
	fn, calls := responses(502, 200)
	r, err := p.Execute(context.Background(), fn)
	require.NoError(t, err)
	assert.Equal(t, response{200}, r)
	assert.Equal(t, 2, *calls)
	require.Len(t, seen, 1, "RetryIf is asked about errors only")
}
