package resilience_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func stateChange(n int) resilience.Event {
	return resilience.Event{Kind: resilience.EventStateChange, Attempt: n}
}

// A policy takes its own lock, numbers its state change, enqueues it, unlocks
// and flushes. Listeners must then see every change exactly once, in number
// order, and never two at a time (the race detector checks the last part:
// the listener appends without a lock). The listener also calls back into
// the policy, taking its lock: delivering under that lock would deadlock.
func TestDispatcherDeliversStateChangesOnceInOrderUnderConcurrency(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		goroutines := rapid.IntRange(1, 8).Draw(t, "goroutines")
		perG := rapid.SliceOfN(rapid.IntRange(1, 30), goroutines, goroutines).Draw(t, "changes per goroutine")

		var (
			policyMu sync.Mutex // the policy's own lock; protects next
			next     int
			seen     []int
		)
		d := resilience.NewDispatcher(resilience.Listeners{resilience.OnStateChange(func(e resilience.Event) {
			policyMu.Lock() // re-entering the policy, as a listener reading its Snapshot does
			assert.Less(t, e.Attempt, next)
			policyMu.Unlock()
			seen = append(seen, e.Attempt)
		})})
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, n := range perG {
			wg.Go(func() {
				<-start
				for range n {
					policyMu.Lock()
					d.Enqueue(stateChange(next))
					next++
					policyMu.Unlock()
					d.Flush()
				}
			})
		}
		close(start)
		wg.Wait()

		require.Equal(t, next, len(seen), "every change delivered once")
		for i, v := range seen {
			require.Equal(t, i, v, "change %d delivered out of order", i)
		}
		queued, _ := resilience.Queued(d)
		assert.Zero(t, queued)
	})
}

// The check that a listener does not run under the producer's lock, shown
// failing on a producer that emits while locked.
func TestDispatcherNeverDeliversUnderTheProducersLock(t *testing.T) {
	var policyMu sync.Mutex
	var lockFree []bool
	d := resilience.NewDispatcher(resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {
		free := policyMu.TryLock()
		if free {
			policyMu.Unlock()
		}
		lockFree = append(lockFree, free)
	})})

	policyMu.Lock()
	d.Enqueue(stateChange(0))
	policyMu.Unlock()
	d.Flush()

	policyMu.Lock()
	d.Emit(stateChange(1)) // wrong: Emit delivers at once, under the lock
	policyMu.Unlock()

	assert.Equal(t, []bool{true, false}, lockFree)
}

func TestDispatcherListenerMayEmitAgain(t *testing.T) {
	var d *resilience.Dispatcher
	var order []string
	d = resilience.NewDispatcher(resilience.Listeners{resilience.OnEvent(func(e resilience.Event) {
		order = append(order, e.To)
		if e.To == "open" {
			d.Emit(resilience.Event{Kind: resilience.EventStateChange, To: "half-open"}) // queued, not nested
			d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, To: "closed"})
			d.Flush()
			order = append(order, "listener returns")
		}
	})})
	d.Emit(resilience.Event{Kind: resilience.EventStateChange, To: "open"})
	assert.Equal(t, []string{"open", "listener returns", "half-open", "closed"}, order)
}

func TestDispatcherSurvivesAPanickingListener(t *testing.T) {
	var got []string
	d := resilience.NewDispatcher(resilience.Listeners{resilience.OnEvent(func(e resilience.Event) {
		if e.To == "boom" {
			panic("listener failed")
		}
		got = append(got, e.To)
	})})
	assert.PanicsWithValue(t, "listener failed", func() {
		d.Emit(resilience.Event{Kind: resilience.EventStateChange, To: "boom"})
	})
	d.Emit(resilience.Event{Kind: resilience.EventStateChange, To: "closed"})
	assert.Equal(t, []string{"closed"}, got)
}

// blockedDispatcher returns a dispatcher whose listener is parked inside the
// delivery of state change 0 on another goroutine until release is called.
// The listener subscribes to every kind; state changes are appended to seen
// and the other kinds are handed to onCall.
func blockedDispatcher(t *testing.T, seen *[]int, onCall func(resilience.Event)) (d *resilience.Dispatcher, release func()) {
	entered, unblock, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	d = resilience.NewDispatcher(resilience.Listeners{resilience.OnEvent(func(e resilience.Event) {
		if e.Kind != resilience.EventStateChange {
			onCall(e)
			return
		}
		*seen = append(*seen, e.Attempt)
		if e.Attempt == 0 {
			close(entered)
			<-unblock
		}
	})})
	go func() {
		defer close(done)
		d.Enqueue(stateChange(0))
		d.Flush()
	}()
	<-entered
	var once sync.Once
	release = func() {
		once.Do(func() { close(unblock) })
		<-done
	}
	t.Cleanup(release)
	return d, release
}

func TestDispatcherBoundsTheQueueAndCountsDrops(t *testing.T) {
	var seen []int
	d, release := blockedDispatcher(t, &seen, nil)
	const extra = 1000
	for i := 1; i <= resilience.MaxQueuedChanges+extra; i++ {
		d.Enqueue(stateChange(i))
		d.Flush() // returns at once: the other goroutine is delivering
	}
	queued, capacity := resilience.Queued(d)
	assert.Equal(t, resilience.MaxQueuedChanges, queued)
	assert.LessOrEqual(t, capacity, resilience.MaxQueuedChanges)
	assert.Equal(t, uint64(extra), d.Dropped())

	release()
	require.Len(t, seen, 1+resilience.MaxQueuedChanges)
	assert.Equal(t, 0, seen[0])
	for i, v := range seen[1:] {
		require.Equal(t, extra+1+i, v, "the oldest changes are the ones dropped, the rest arrive in order")
	}
	queued, _ = resilience.Queued(d)
	assert.Zero(t, queued)
}

// However many changes pile up behind a blocked listener, the backing array
// stays within the bound: delivered and dropped slots are reused.
func TestDispatcherQueueMemoryIsBoundedBehindABlockedListener(t *testing.T) {
	var seen []int
	d, release := blockedDispatcher(t, &seen, nil)
	base := heapInUse()
	for i := 1; i <= 40*resilience.MaxQueuedChanges; i++ {
		d.Enqueue(stateChange(i))
	}
	grown := heapInUse() - base
	_, capacity := resilience.Queued(d)
	assert.LessOrEqual(t, capacity, resilience.MaxQueuedChanges)
	assert.Less(t, grown, int64(8<<20), "heap grew by %d bytes", grown)
	release()
}

// Per-call events are delivered before Emit returns, while a state change
// is stuck in a blocked listener on another goroutine: they are not queued
// behind it, and the queue holds nothing for them.
func TestDispatcherDeliversPerCallEventsOnTheCallersGoroutine(t *testing.T) {
	var seen []int
	rec := resiliencetest.NewRecorder()
	d, release := blockedDispatcher(t, &seen, rec.Listener().Func)
	d.Enqueue(stateChange(1)) // waits behind change 0
	d.Flush()
	for _, kind := range []resilience.EventKind{
		resilience.EventOutcome, resilience.EventRejection, resilience.EventRetry,
		resilience.EventTimeout, resilience.EventFallback, resilience.EventPanic,
	} {
		for range 100 {
			d.Emit(resilience.Event{Kind: kind})
		}
		assert.Equal(t, 100, rec.Count(kind), "%v delivered before Emit returns", kind)
		queued, _ := resilience.Queued(d)
		assert.Equal(t, 1, queued, "only the state change waits")
	}
	release()
	assert.Equal(t, []int{0, 1}, seen)
	queued, _ := resilience.Queued(d)
	assert.Zero(t, queued)
}

func TestDispatcherWantsOnlySubscribedKinds(t *testing.T) {
	noop := func(resilience.Event) {}
	all := []resilience.EventKind{
		resilience.EventStateChange, resilience.EventRejection, resilience.EventOutcome, resilience.EventRetry,
		resilience.EventTimeout, resilience.EventLimitChange, resilience.EventPanic, resilience.EventFallback,
	}
	tests := []struct {
		name  string
		ls    resilience.Listeners
		wants []resilience.EventKind
	}{
		{"none", nil, nil},
		{"nil Func", resilience.Listeners{{Kinds: resilience.AllKinds}}, nil},
		{"state changes", resilience.Listeners{resilience.OnStateChange(noop)},
			[]resilience.EventKind{resilience.EventStateChange, resilience.EventLimitChange}},
		{"retries", resilience.Listeners{resilience.OnKinds(noop, resilience.EventRetry)}, []resilience.EventKind{resilience.EventRetry}},
		{"union", resilience.Listeners{resilience.OnKinds(noop, resilience.EventRetry), resilience.OnKinds(noop, resilience.EventTimeout)},
			[]resilience.EventKind{resilience.EventRetry, resilience.EventTimeout}},
		{"zero Kinds means all", resilience.Listeners{{Func: noop}}, all},
		{"OnEvent", resilience.Listeners{resilience.OnEvent(noop)}, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := resilience.NewDispatcher(tt.ls)
			assert.Equal(t, len(tt.wants) > 0, d.Active())
			for _, k := range all {
				assert.Equal(t, contains(tt.wants, k), d.Wants(k), "Wants(%v)", k)
			}
			assert.False(t, d.Wants(0))
		})
	}
}

func contains(ks []resilience.EventKind, k resilience.EventKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func TestDispatcherDeliversEachListenerItsKinds(t *testing.T) {
	states, calls := resiliencetest.NewRecorder(), resiliencetest.NewRecorder()
	d := resilience.NewDispatcher(resilience.Listeners{
		resilience.OnStateChange(states.Listener().Func),
		resilience.OnKinds(calls.Listener().Func, resilience.EventOutcome, resilience.EventRejection),
	})
	d.Emit(resilience.Event{Kind: resilience.EventOutcome})
	d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, From: "closed", To: "open"})
	d.Flush()
	d.Emit(resilience.Event{Kind: resilience.EventRetry})
	d.Emit(resilience.Event{Kind: resilience.EventLimitChange})
	d.Emit(resilience.Event{Kind: resilience.EventRejection})
	assert.Equal(t, []resilience.EventKind{resilience.EventStateChange, resilience.EventLimitChange}, states.Kinds())
	assert.Equal(t, []resilience.EventKind{resilience.EventOutcome, resilience.EventRejection}, calls.Kinds())
}

func TestDispatcherWithoutListenersDoesNothing(t *testing.T) {
	var nilD *resilience.Dispatcher
	var zero resilience.Dispatcher
	for _, d := range []*resilience.Dispatcher{nilD, &zero, resilience.NewDispatcher(resilience.Listeners{{}})} {
		assert.False(t, d.Active())
		assert.False(t, d.Wants(resilience.EventStateChange))
		d.Emit(resilience.Event{Kind: resilience.EventOutcome})
		d.Enqueue(stateChange(1))
		d.Flush()
		assert.Zero(t, d.Dropped())
	}
	queued, _ := resilience.Queued(&zero)
	assert.Zero(t, queued)
}

// Many goroutines emit per-call events and enqueue state changes as fast as
// they can. Every per-call event reaches the counting listener, every state
// change is delivered or counted as dropped, nothing stays queued,
// and the heap ends where it began (a design that queued per-call events
// grew by gigabytes under such a load).
func TestDispatcherUnderLoadKeepsMemoryBounded(t *testing.T) {
	const goroutines, perG = 8, 20000
	var outcomes, changes atomic.Int64
	d := resilience.NewDispatcher(resilience.Listeners{resilience.OnEvent(func(e resilience.Event) {
		if e.Kind == resilience.EventOutcome {
			outcomes.Add(1)
		} else {
			changes.Add(1)
		}
	})})
	base := heapInUse()
	var policyMu sync.Mutex
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range perG {
				if d.Wants(resilience.EventOutcome) {
					d.Emit(resilience.Event{Kind: resilience.EventOutcome, Attempt: i})
				}
				if i%4 == 0 {
					policyMu.Lock()
					d.Enqueue(stateChange(i))
					policyMu.Unlock()
					d.Flush()
				}
			}
		})
	}
	wg.Wait()
	grown := heapInUse() - base

	assert.Equal(t, int64(goroutines*perG), outcomes.Load())
	// Producers may outrun the one goroutine delivering; what the bound
	// dropped is counted, and nothing is lost or delivered twice.
	assert.Equal(t, int64(goroutines*perG/4), changes.Load()+int64(d.Dropped()))
	queued, _ := resilience.Queued(d)
	assert.Zero(t, queued)
	assert.Less(t, grown, int64(8<<20), "heap grew by %d bytes", grown)
	runtime.KeepAlive(d)
}

// heapInUse returns the bytes of live heap objects after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func BenchmarkDispatcherUnobservedCall(b *testing.B) {
	d := resilience.NewDispatcher(resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {})})
	b.ReportAllocs()
	for b.Loop() {
		if d.Wants(resilience.EventOutcome) {
			d.Emit(resilience.Event{Kind: resilience.EventOutcome})
		}
	}
}

// EmitRef delivers what Emit delivers, a copy to each listener of the
// kind: a listener changing its copy changes neither the next listener's
// nor the caller's event. A state change given by reference still goes
// through the queue, in order.
func TestDispatcherEmitRefDeliversCopies(t *testing.T) {
	var got []resilience.Event
	d := resilience.NewDispatcher(resilience.Listeners{
		resilience.OnEvent(func(e resilience.Event) { got = append(got, e); e.Name = "changed" }),
		resilience.OnKinds(func(e resilience.Event) { got = append(got, e) }, resilience.EventOutcome),
	})
	e := resilience.Event{Kind: resilience.EventOutcome, Name: "bank", Outcome: resilience.Failure}
	d.EmitRef(&e)
	require.Len(t, got, 2)
	assert.Equal(t, e, got[0])
	assert.Equal(t, e, got[1], "the second listener saw the first one's change")
	assert.Equal(t, "bank", e.Name)

	got = nil
	sc := stateChange(1)
	d.EmitRef(&sc)
	require.Len(t, got, 1, "a state change goes to the listener of every kind only")
	assert.Equal(t, 1, got[0].Attempt)
}
