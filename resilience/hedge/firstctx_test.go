package hedge

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type firstCtxKey struct{}

var errCallerLeft = errors.New("caller left")

// The first attempt's context behaves as context.WithCancel of the
// caller's would, whether or not anything waited on it (linked or not)
// before it ended, and whichever side ended it.
func TestFirstCtxActsAsWithCancel(t *testing.T) {
	for _, tc := range []struct {
		name        string
		linkFirst   bool // ask Done before the end
		byHedger    bool // the hedger cancels it; otherwise the caller's context ends
		wantErr     error
		wantCauseIs error
	}{
		{"unlinked, cancelled by the hedger", false, true, context.Canceled, context.Canceled},
		{"linked, cancelled by the hedger", true, true, context.Canceled, context.Canceled},
		{"unlinked, the caller's context ends", false, false, context.Canceled, errCallerLeft},
		{"linked, the caller's context ends", true, false, context.Canceled, errCallerLeft},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deadline := time.Now().Add(time.Hour)
			parent, stop := context.WithDeadline(context.WithValue(context.Background(), firstCtxKey{}, "v"), deadline)
			defer stop()
			parent, leave := context.WithCancelCause(parent)
			defer leave(nil)
			c := &firstCtx{Context: parent}
			if tc.linkFirst {
				require.NotNil(t, c.Done())
				require.NotNil(t, c.linked.Load(), "Done makes the context.WithCancel")
			}
			assert.NoError(t, c.Err(), "not ended yet")
			assert.Equal(t, "v", c.Value(firstCtxKey{}), "the caller's values")
			d, ok := c.Deadline()
			assert.True(t, ok && d.Equal(deadline), "the caller's deadline")

			if tc.byHedger {
				c.cancel()
			} else {
				leave(errCallerLeft)
			}
			assert.ErrorIs(t, c.Err(), tc.wantErr, "Err, asked first")
			select {
			case <-c.Done():
			default:
				t.Fatal("Done not closed by the time the end returned")
			}
			assert.ErrorIs(t, context.Cause(c), tc.wantCauseIs)
			c.cancel() // again: no effect
			assert.ErrorIs(t, c.Err(), tc.wantErr)
		})
	}
}

// A context derived from the first attempt's is registered with the
// context.WithCancel the first one becomes, so that the hedger's
// cancellation reaches it before cancel returns, as it would reach the
// child of a context.WithCancel; context.AfterFunc on it runs its function.
func TestFirstCtxEndsItsDerivedContextsAtOnce(t *testing.T) {
	c := &firstCtx{Context: context.Background()}
	child, stop := context.WithCancel(c)
	defer stop()
	ran := make(chan struct{})
	context.AfterFunc(c, func() { close(ran) })
	require.NoError(t, child.Err())

	c.cancel()

	assert.ErrorIs(t, child.Err(), context.Canceled, "ended by the time cancel returned")
	<-ran
}

// A context derived after the first attempt's has ended starts ended, and
// Done of an unlinked context that has ended is closed without making a
// context.WithCancel.
func TestFirstCtxEndedBeforeAnyoneWaited(t *testing.T) {
	c := &firstCtx{Context: context.Background()}
	c.cancel()
	<-c.Done()
	assert.Nil(t, c.linked.Load(), "no context.WithCancel for a context already ended")
	child, stop := context.WithCancel(c)
	defer stop()
	assert.ErrorIs(t, child.Err(), context.Canceled)
}

// Done, Err, Value and cancel may race (run under -race).
func TestFirstCtxConcurrentUse(t *testing.T) {
	for range 50 {
		c := &firstCtx{Context: context.Background()}
		var wg sync.WaitGroup
		wg.Go(func() { <-c.Done() })
		wg.Go(func() { _ = c.Err(); _ = c.Value(firstCtxKey{}) })
		wg.Go(c.cancel)
		wg.Wait()
		assert.ErrorIs(t, c.Err(), context.Canceled)
	}
}
