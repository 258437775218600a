package timeout_test

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

type ctxKey struct{}

// family derives from ctx the contexts a dependency's client might make:
// children, grandchildren, through WithValue chains, with and without a
// deadline of their own that is later than the timeout's.
func family(ctx context.Context) (map[string]context.Context, func()) {
	var cancels []func()
	add := func(c context.Context, cancel func()) context.Context {
		cancels = append(cancels, cancel)
		return c
	}
	ctxs := map[string]context.Context{}
	ctxs["WithCancel"] = add(context.WithCancel(ctx))
	ctxs["WithTimeout"] = add(context.WithTimeout(ctx, time.Hour))
	withCause, cancelCause := context.WithCancelCause(ctx)
	ctxs["WithCancelCause"] = add(withCause, func() { cancelCause(nil) })
	valued := context.WithValue(ctx, ctxKey{}, "v")
	ctxs["WithValue"] = valued
	ctxs["WithValue/WithCancel"] = add(context.WithCancel(valued))
	ctxs["WithCancel/WithCancel"] = add(context.WithCancel(ctxs["WithCancel"]))
	ctxs["WithTimeout/WithValue/WithTimeout"] = add(context.WithTimeout(
		context.WithValue(ctxs["WithTimeout"], ctxKey{}, 2), 2*time.Hour))
	ctxs["WithValue/WithValue/WithCancel"] = add(context.WithCancel(context.WithValue(valued, ctxKey{}, 3)))
	return ctxs, func() {
		for _, c := range cancels {
			c()
		}
	}
}

// checkFamily asserts that every derived context ended as a deadline, with
// the timeout's error as its cause.
func checkFamily(t *testing.T, ctxs map[string]context.Context) {
	t.Helper()
	for name, c := range ctxs {
		select {
		case <-c.Done():
		default:
			t.Errorf("%s: not done when the call's context is", name)
			continue
		}
		assert.Equal(t, context.DeadlineExceeded, c.Err(), "%s: Err", name)
		cause := context.Cause(c)
		var te *timeout.Error
		if assert.ErrorAs(t, cause, &te, "%s: Cause", name) {
			assert.Equal(t, "fx", te.Name, "%s: Cause", name)
		}
	}
}

// timedOutCall runs one call that derives a family of contexts and waits
// for the timeout; advance moves time past the deadline once the call is
// waiting (nil on the real clock in a bubble, where time moves by itself).
func timedOutCall(t *testing.T, to *timeout.Timeout, advance func()) {
	t.Helper()
	entered := make(chan struct{})
	var ctxs map[string]context.Context
	var afterFuncErr error
	afterFuncRan := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := resilience.Execute(context.Background(), func(ctx context.Context) (int, error) {
			var release func()
			ctxs, release = family(ctx)
			defer release()
			context.AfterFunc(ctx, func() { afterFuncErr = ctx.Err(); close(afterFuncRan) })
			close(entered)
			<-ctx.Done()
			for _, c := range ctxs {
				<-c.Done()
			}
			checkFamily(t, ctxs)
			assert.Equal(t, context.DeadlineExceeded, ctx.Err(), "the call's own context")
			return 0, ctxs["WithValue/WithCancel"].Err()
		}, to)
		done <- err
	}()
	<-entered
	if advance != nil {
		advance()
	}
	err := <-done
	assert.ErrorIs(t, err, timeout.ErrTimeout)
	<-afterFuncRan
	assert.Equal(t, context.DeadlineExceeded, afterFuncErr, "context.AfterFunc sees the deadline")
}

// Issue 12 item 6: a deadline looks like a deadline to every derived
// context, on the real clock and on an injected one, in both modes.
func TestDerivedContextsSeeTheDeadline(t *testing.T) {
	for _, mode := range []timeout.Mode{timeout.Cooperative, timeout.Abandon} {
		t.Run("real/"+mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				to := newTimeout(t, timeout.Config{Timeout: time.Second, Name: "fx", Mode: mode})
				timedOutCall(t, to, nil)
			})
		})
		t.Run("mock/"+mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mock := clock.NewMock()
				to := newTimeout(t, timeout.Config{Timeout: time.Second, Name: "fx", Mode: mode, Clock: mock})
				timedOutCall(t, to, func() { mock.Add(time.Second) })
			})
		})
	}
}

// No goroutine outlives the calls, whether they time out, finish in time
// or are cancelled by their caller; contexts derived through WithValue
// chains included (package context would start a goroutine for each one
// if the call's context were not one of its own).
func TestInjectedClockLeavesNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines(t)
		mock := clock.NewMock()
		to := newTimeout(t, timeout.Config{Timeout: time.Second, Name: "fx", Clock: mock})
		for i := range 3 {
			timedOutCall(t, to, func() { mock.Add(time.Second) })
			_, err := resilience.Execute(context.Background(), func(ctx context.Context) (int, error) {
				_, release := family(ctx)
				defer release()
				return i, nil
			}, to)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			_, err = resilience.Execute(ctx, func(ctx context.Context) (int, error) {
				ctxs, release := family(ctx)
				defer release()
				cancel()
				<-ctxs["WithValue/WithCancel"].Done()
				return 0, ctx.Err()
			}, to)
			require.ErrorIs(t, err, context.Canceled)
		}
		synctest.Wait()
		assert.Equal(t, before, bubbleGoroutines(t), "goroutines left behind")
		assert.Equal(t, uint64(3), to.Snapshot().Timeouts)
	})
}

// The caller's cancellation reaches contexts derived under an injected
// clock as a cancellation, with the caller's cause.
func TestInjectedClockPassesOnTheCallersCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to := newTimeout(t, timeout.Config{Timeout: time.Second, Clock: clock.NewMock()})
		ctx, cancel := context.WithCancelCause(context.Background())
		gone := fmt.Errorf("client went away")
		_, err := resilience.Execute(ctx, func(ctx context.Context) (int, error) {
			ctxs, release := family(ctx)
			defer release()
			cancel(gone)
			for name, c := range ctxs {
				<-c.Done()
				assert.Same(t, context.Canceled, c.Err(), name)
				assert.Same(t, gone, context.Cause(c), name)
			}
			return 0, ctx.Err()
		}, to)
		assert.Same(t, context.Canceled, err, "the caller's error, unchanged")
		assert.Zero(t, to.Snapshot().Timeouts)
	})
}

func TestInjectedClockDrivesTheDeadline(t *testing.T) {
	for _, mode := range []timeout.Mode{timeout.Cooperative, timeout.Abandon} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mock := clock.NewMock()
				to := newTimeout(t, timeout.Config{Timeout: 3 * time.Second, Clock: mock, Mode: mode})
				entered := make(chan struct{})
				var deadline time.Time
				done := make(chan error, 1)
				go func() {
					_, err := resilience.Execute(context.Background(), func(ctx context.Context) (int, error) {
						deadline, _ = ctx.Deadline()
						close(entered) // the timer is registered by now
						return waitCtx(ctx)
					}, to)
					done <- err
				}()
				<-entered
				mock.Add(2 * time.Second)
				synctest.Wait()
				select {
				case <-done:
					t.Fatal("returned before the mock deadline")
				default:
				}
				mock.Add(time.Second)
				assert.ErrorIs(t, <-done, timeout.ErrTimeout)
				assert.Equal(t, time.Unix(0, 0).Add(3*time.Second), deadline)
			})
		})
	}
}

func TestInjectedClockCallFinishingInTimeStopsTheTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mock := clock.NewMock()
		to := newTimeout(t, timeout.Config{Timeout: time.Second, Clock: mock})
		var inner context.Context
		v, err := resilience.Execute(context.Background(), func(ctx context.Context) (int, error) { inner = ctx; return 1, nil }, to)
		assert.Equal(t, 1, v)
		assert.NoError(t, err)
		assert.Same(t, context.Canceled, inner.Err(), "released when the call returns")
		mock.Add(time.Hour) // the stopped timer must not fire into anything
		synctest.Wait()
		assert.Same(t, context.Canceled, inner.Err())
		assert.Zero(t, to.Snapshot().Timeouts)
	})
}

// A caller whose context is already done gets it back as is on the
// injected clock, without a context or timer being made.
func TestInjectedClockDoneCallerContextIsUsedAsIs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got context.Context
	_, err := resilience.Execute(ctx, func(c context.Context) (int, error) { got = c; return 0, c.Err() },
		newTimeout(t, timeout.Config{Timeout: time.Second, Clock: clock.NewMock()}))
	assert.Same(t, context.Canceled, err)
	assert.Equal(t, ctx, got)
}

var bubbleHeader = regexp.MustCompile(`^goroutine \d+ \[[^\]]*(synctest bubble \d+)\]`)

// bubbleGoroutines counts the goroutines of the calling goroutine's
// synctest bubble: runtime.NumGoroutine with the goroutines of other
// tests and of the runtime left out.
func bubbleGoroutines(t *testing.T) int {
	t.Helper()
	buf := make([]byte, 1<<20)
	stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
	mine := bubbleHeader.FindStringSubmatch(stacks[0]) // the first stack is the caller's
	require.NotNil(t, mine, "not in a synctest bubble")
	n := 0
	for _, s := range stacks {
		if m := bubbleHeader.FindStringSubmatch(s); m != nil && m[1] == mine[1] {
			n++
		}
	}
	return n
}
