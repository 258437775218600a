package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/stretchr/testify/assert"
)

type causeError struct{ msg string }

func (e *causeError) Error() string { return e.msg }

func TestDefaultOutcome(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel2 := context.WithDeadline(live, time.Unix(1, 0))
	defer cancel2()
	shutdown := &causeError{"server shutting down"}
	withCause, cancel3 := context.WithCancelCause(live)
	cancel3(shutdown)
	deadlineCause, cancel4 := context.WithDeadlineCause(live, time.Unix(1, 0), shutdown)
	defer cancel4()
	dependencyFailed := errors.New("bank: 500")
	rejected := resilience.Reject("breaker", "bank", errors.New("breaker: open"), 0)

	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want resilience.Outcome
	}{
		{"nil error", live, nil, resilience.Success},
		{"nil error on a cancelled context", cancelled, nil, resilience.Success},
		{"judged a failure", live, &resilience.Judged{Outcome: resilience.Failure}, resilience.Failure},
		{"judged a success, wrapping a failure", live, &resilience.Judged{Outcome: resilience.Success, Err: dependencyFailed}, resilience.Success},
		{"judged ignored, wrapped", live, fmt.Errorf("a: %w", &resilience.Judged{Outcome: resilience.Ignored}), resilience.Ignored},
		{"judged, in a join", live, errors.Join(dependencyFailed, &resilience.Judged{Outcome: resilience.Success}), resilience.Success},
		{"judged a failure beats a rejection inside", live, &resilience.Judged{Outcome: resilience.Failure, Err: rejected}, resilience.Failure},
		{"plain error", live, dependencyFailed, resilience.Failure},
		{"rejection", live, rejected, resilience.Ignored},
		{"rejection, wrapped", live, fmt.Errorf("pay: %w", rejected), resilience.Ignored},
		{"rejection in a join", live, errors.Join(dependencyFailed, rejected), resilience.Ignored},
		{"caller cancelled", cancelled, context.Canceled, resilience.Ignored},
		{"caller cancelled, wrapped", cancelled, fmt.Errorf("get: %w", context.Canceled), resilience.Ignored},
		{"caller cancelled with a cause, function returned the cause", withCause, fmt.Errorf("x: %w", shutdown), resilience.Ignored},
		{"caller cancelled with a cause, function returned Canceled", withCause, context.Canceled, resilience.Ignored},
		{"caller cancelled, unrelated error", cancelled, dependencyFailed, resilience.Failure},
		{"caller deadline passed in flight", expired, context.DeadlineExceeded, resilience.Failure},
		{"caller deadline, wrapped twice", expired, fmt.Errorf("a: %w", fmt.Errorf("b: %w", context.DeadlineExceeded)), resilience.Failure},
		{"caller deadline with a cause", deadlineCause, fmt.Errorf("x: %w", shutdown), resilience.Failure},
		{"deadline not the caller's (inner timeout)", live, context.DeadlineExceeded, resilience.Failure},
		{"Canceled but caller alive", live, context.Canceled, resilience.Failure},
		{"nil context", nil, context.Canceled, resilience.Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resilience.DefaultOutcome(tt.ctx, tt.err)
			assert.Equal(t, tt.want, got, "DefaultOutcome(%v) = %v, want %v", tt.err, got, tt.want)
		})
	}
}

// The same two endings as the table, reached the way they happen: a call
// in flight when its caller gives up or runs out of time.
func TestDefaultOutcomeOfACallInFlight(t *testing.T) {
	judge := func(t *testing.T, end func(context.CancelFunc)) resilience.Outcome {
		var got resilience.Outcome
		synctest.Test(t, func(t *testing.T) {
			hang := resiliencetest.NewBlocking()
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			spy := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
				err := next.Run(ctx)
				got = resilience.DefaultOutcome(ctx, err)
				return err
			})
			done := make(chan error)
			go func() { done <- resilience.Run(ctx, hang.Run, spy) }()
			synctest.Wait()
			end(cancel)
			<-done
		})
		return got
	}
	assert.Equal(t, resilience.Ignored, judge(t, func(cancel context.CancelFunc) { cancel() }), "the caller went away")
	assert.Equal(t, resilience.Failure, judge(t, func(context.CancelFunc) { time.Sleep(time.Second) }), "the dependency did not answer in time")
}

func TestClassifyFirstDecisiveAnswerWins(t *testing.T) {
	var calls []string
	c := func(name string, o resilience.Outcome) resilience.Classifier[int] {
		return func(context.Context, int, error) resilience.Outcome {
			calls = append(calls, name)
			return o
		}
	}
	classify := resilience.Classify(c("a", resilience.Unclassified), nil, c("b", resilience.Ignored), c("c", resilience.Failure))
	assert.Equal(t, resilience.Ignored, classify(context.Background(), 0, errors.New("x")))
	assert.Equal(t, []string{"a", "b"}, calls)

	none := resilience.Classify[int]()
	assert.Equal(t, resilience.Failure, none(context.Background(), 0, errors.New("x")))
	assert.Equal(t, resilience.Success, none(context.Background(), 0, nil))
}

func TestClassifyErrorsFallsBackToDefault(t *testing.T) {
	defer1 := func(context.Context, error) resilience.Outcome { return resilience.Unclassified }
	classify := resilience.ClassifyErrors(defer1, nil)
	assert.Equal(t, resilience.Failure, classify(context.Background(), errors.New("x")))
	assert.Equal(t, resilience.Success, classify(context.Background(), nil))
	assert.Nil(t, resilience.ForResults[int](nil))
}

func TestOutcomeStrings(t *testing.T) {
	assert.Equal(t, "unclassified", resilience.Outcome(99).String())
	assert.Equal(t, "unknown", resilience.EventKind(0).String())
	assert.Equal(t, "unknown", resilience.EventKind(200).String())
	assert.Equal(t, "panic", resilience.EventPanic.String())
}
