package resilience_test

import (
	"sync"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// A policy takes its own lock, numbers its state change, enqueues it, unlocks
// and flushes. Listeners must then see every event exactly once, in number
// order, and never two at a time (the race detector checks the last part:
// the listener appends without a lock).
func TestDispatcherDeliversInOrderExactlyOnceUnderConcurrency(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		goroutines := rapid.IntRange(1, 8).Draw(t, "goroutines")
		perG := rapid.SliceOfN(rapid.IntRange(1, 30), goroutines, goroutines).Draw(t, "events per goroutine")

		var seen []int
		d := resilience.NewDispatcher(resilience.Listeners{func(e resilience.Event) { seen = append(seen, e.Attempt) }})
		var (
			policyMu sync.Mutex
			next     int
			start    = make(chan struct{})
			wg       sync.WaitGroup
		)
		for _, n := range perG {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range n {
					policyMu.Lock()
					d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, Attempt: next})
					next++
					policyMu.Unlock()
					d.Flush()
				}
			}()
		}
		close(start)
		wg.Wait()

		require.Equal(t, next, len(seen), "every event delivered once")
		for i, v := range seen {
			require.Equal(t, i, v, "event %d delivered out of order", i)
		}
	})
}

func TestDispatcherListenerMayEmitAgain(t *testing.T) {
	var d *resilience.Dispatcher
	var order []string
	d = resilience.NewDispatcher(resilience.Listeners{func(e resilience.Event) {
		order = append(order, e.To)
		if e.To == "open" {
			d.Emit(resilience.Event{To: "half-open"}) // re-entrant: queued, not nested
			order = append(order, "listener returns")
		}
	}})
	d.Emit(resilience.Event{To: "open"})
	assert.Equal(t, []string{"open", "listener returns", "half-open"}, order)
}

func TestDispatcherSurvivesAPanickingListener(t *testing.T) {
	var got []string
	d := resilience.NewDispatcher(resilience.Listeners{func(e resilience.Event) {
		if e.To == "boom" {
			panic("listener failed")
		}
		got = append(got, e.To)
	}})
	assert.PanicsWithValue(t, "listener failed", func() { d.Emit(resilience.Event{To: "boom"}) })
	d.Emit(resilience.Event{To: "closed"})
	assert.Equal(t, []string{"closed"}, got)
}

func TestDispatcherWithoutListenersIsInactive(t *testing.T) {
	var nilD *resilience.Dispatcher
	assert.False(t, nilD.Active())
	nilD.Emit(resilience.Event{}) // no panic
	d := resilience.NewDispatcher(resilience.Listeners{nil})
	assert.False(t, d.Active())
	d.Emit(resilience.Event{})
}

func BenchmarkDispatcherInactive(b *testing.B) {
	d := resilience.NewDispatcher(nil)
	b.ReportAllocs()
	for b.Loop() {
		if d.Active() {
			d.Emit(resilience.Event{})
		}
	}
}
