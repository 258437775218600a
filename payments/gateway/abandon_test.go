package gateway

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
)

// When the breaker opens, the trip wire ends the calls in flight earliest
// deadline first: for payments, the oldest claims, whose customers have
// waited longest and set the tail. Ending them in the context package's
// order (random) left the oldest payments of a drill's hang up to 50ms
// behind the breaker, over the tail check's margin.
func TestTripWireEndsTheEarliestDeadlineFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTripWire("bank")
		now := time.Now()
		enter := []struct {
			name string
			in   time.Duration // deadline from now; 0: none
		}{{"c", 3 * time.Second}, {"none-1", 0}, {"a", time.Second}, {"b-1", 2 * time.Second}, {"none-2", 0}, {"b-2", 2 * time.Second}}
		names := map[*wireCall]string{}
		ended := 0
		for _, e := range enter {
			c := &wireCall{end: func(cause error) {
				assert.ErrorIs(t, cause, errAbandoned)
				ended++
			}}
			if e.in > 0 {
				c.deadline = now.Add(e.in)
			}
			names[c] = e.name
			w.enter(c)
		}
		left := &wireCall{end: func(error) { t.Error("a call that left was ended") }}
		w.enter(left)
		w.leave(left)

		var order []string
		for _, c := range w.takeAll() {
			order = append(order, names[c])
		}
		assert.Equal(t, []string{"a", "b-1", "b-2", "c", "none-1", "none-2"}, order)
		assert.Empty(t, w.takeAll(), "the list is empty after")
		for c := range names {
			w.leave(c) // a call taken by fire leaves without harm
		}
		for c := range names {
			w.enter(c)
		}
		w.fire()
		assert.Equal(t, len(enter), ended)
	})
}

// Calls in flight when the wire fires end with errAbandoned; a call that
// enters afterwards runs as usual.
func TestTripWireEndsOnlyTheCallsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTripWire("bank")
		pipe := resilience.NewPipeline[int](w)
		hang := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
		errs := make(chan error, 2)
		for range 2 {
			go func() { _, err := pipe.Execute(context.Background(), hang); errs <- err }()
		}
		synctest.Wait()
		w.fire()
		for range 2 {
			err := <-errs
			require.ErrorIs(t, err, errAbandoned)
			assert.False(t, errors.Is(err, context.Canceled), "not the caller's cancellation")
		}
		n, err := pipe.Execute(context.Background(), func(context.Context) (int, error) { return 7, nil })
		require.NoError(t, err)
		assert.Equal(t, 7, n)
		assert.Empty(t, w.takeAll(), "no call left behind")
	})
}
