package breaker_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

// Listeners: what they receive, when, and what they cost.

func TestEvents(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	b, clk := newBreaker(t, breaker.Config{
		Name: "fx", ConsecutiveFailures: 1, OpenWait: time.Second,
		Listeners: resilience.Listeners{rec.Listener()},
	})
	p := allow(t, b)
	clk.Add(30 * time.Millisecond)
	p.DoneErr(context.Background(), errors.New("timeout"))
	_, _ = b.Allow()

	events := rec.Events()
	require.Len(t, events, 3)
	out, open, rej := events[0], events[1], events[2]
	assert.Equal(t, resilience.EventOutcome, out.Kind)
	assert.Equal(t, resilience.Failure, out.Outcome)
	assert.Equal(t, 30*time.Millisecond, out.Duration)
	assert.EqualError(t, out.Err, "timeout")

	assert.Equal(t, resilience.EventStateChange, open.Kind)
	assert.Equal(t, "breaker", open.Policy)
	assert.Equal(t, "fx", open.Name)
	assert.Equal(t, "closed", open.From)
	assert.Equal(t, "open", open.To)
	assert.True(t, open.Degraded)
	assert.Equal(t, "1 consecutive failures", open.Reason)
	snap, ok := open.Detail.(breaker.Snapshot)
	require.True(t, ok)
	assert.Equal(t, breaker.Open, snap.State)
	assert.Equal(t, time.Second, snap.UntilHalfOpen)

	assert.Equal(t, resilience.EventRejection, rej.Kind)
	assert.ErrorIs(t, rej.Err, breaker.ErrOpen)
}

// A listener receives only the kinds it subscribes to, and the breaker
// builds no other.
func TestListenersReceiveOnlyTheirKinds(t *testing.T) {
	var changes, rejections atomic.Int64
	b, clk := newBreaker(t, breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Second, Listeners: resilience.Listeners{
		resilience.OnStateChange(func(e resilience.Event) {
			assert.Equal(t, resilience.EventStateChange, e.Kind)
			changes.Add(1)
		}),
		resilience.OnKinds(func(e resilience.Event) {
			assert.Equal(t, resilience.EventRejection, e.Kind)
			rejections.Add(1)
		}, resilience.EventRejection),
	}})
	call(b, resilience.Success)
	call(b, resilience.Failure)
	call(b, resilience.Success) // rejected
	clk.Add(time.Second)
	call(b, resilience.Success)
	assert.Equal(t, int64(3), changes.Load(), "closed->open->half_open->closed")
	assert.Equal(t, int64(1), rejections.Load())
}

// gobreaker #37: a listener that reads the breaker must not deadlock.
func TestListenerCallingStateDoesNotDeadlock(t *testing.T) {
	var (
		b    *breaker.Breaker
		seen []string
	)
	listener := resilience.OnStateChange(func(e resilience.Event) {
		seen = append(seen, e.To+"/"+b.State().String()+"/"+b.Snapshot().State.String())
	})
	b, _ = newBreaker(t, breaker.Config{ConsecutiveFailures: 1, Listeners: resilience.Listeners{listener}})
	p := allow(t, b)
	p.Done(resilience.Failure)
	b.Reset()
	assert.Equal(t, []string{"open/open/open", "closed/closed/closed"}, seen)
}

func TestSlogListenerLogsTransitionsWithSnapshot(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	b, _ := newBreaker(t, breaker.Config{
		Name: "bank", ConsecutiveFailures: 1,
		Listeners: resilience.Listeners{resilience.SlogListener(logger, resilience.SlogOptions{})},
	})
	call(b, resilience.Failure)
	out := buf.String()
	assert.Contains(t, out, `level=WARN msg="state change" policy=breaker name=bank from=closed to=open`)
	assert.Contains(t, out, "snapshot.state=open")
	assert.Contains(t, out, "snapshot.open_wait=5s")
}

// Issue 12 item 1: with a counting listener of every kind on a busy closed
// breaker, every outcome event is delivered on its caller's goroutine,
// nothing waits in the dispatcher, and memory does not grow with the
// number of calls. The stated bound: the whole run allocates at most
// 256 KiB (goroutines included) and leaves the live heap at most that much
// larger, where queueing the run's 64 000 events, even briefly, would
// allocate about 13 MB (each Event is about 200 bytes).
func TestOutcomeEventsNeverPileUp(t *testing.T) {
	const goroutines, callsEach, bound = 32, 2000, 256 << 10
	var outcomes, others atomic.Int64
	counter := resilience.OnEvent(func(e resilience.Event) {
		if e.Kind == resilience.EventOutcome {
			outcomes.Add(1)
		} else {
			others.Add(1)
		}
	})
	b, err := breaker.New(breaker.Config{FailureRate: 0.5, Listeners: resilience.Listeners{counter}})
	require.NoError(t, err)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			<-start
			for range callsEach {
				call(b, resilience.Success)
			}
		})
	}
	close(start)
	wg.Wait()
	delivered := outcomes.Load() // read before anything else could deliver
	runtime.GC()
	runtime.ReadMemStats(&after)

	assert.Equal(t, int64(goroutines*callsEach), delivered, "every outcome delivered by the time its call returned")
	assert.Zero(t, others.Load())
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, growth, int64(bound), "live heap grew by %d bytes", growth)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(bound), "the run allocated %d bytes", allocated)
	t.Logf("live heap growth %d bytes, allocated %d bytes for %d calls", growth, allocated, goroutines*callsEach)
	s := b.Snapshot()
	assert.Equal(t, uint64(goroutines*callsEach), s.Successes)

	// Nothing is queued: the next state change is delivered alone, at once.
	b.ForceOpen()
	assert.Equal(t, int64(1), others.Load(), "the new state change is delivered")
	assert.Equal(t, delivered, outcomes.Load(), "no outcome was waiting behind it")
	runtime.KeepAlive(b)
}

// State changes reach a listener exactly once each, in order, while many
// goroutines trip the breaker at once and another forces it open and
// resets it: the generation in each event's snapshot goes up by one from
// event to event (every transition here changes the state, so each has an
// event), and each starts where the last ended.
func TestStateChangesOnceInOrderUnderConcurrentTrips(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	clk := clock.NewMock()
	b, err := breaker.New(breaker.Config{
		ConsecutiveFailures: 2, OpenWait: time.Millisecond, Clock: clk,
		Listeners: resilience.Listeners{rec.Listener()},
	})
	require.NoError(t, err)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			<-start
			for i := range 200 {
				switch {
				case g == 0 && i%10 == 0:
					b.ForceOpen()
					b.Reset()
				case g == 1 && i%50 == 0:
					clk.Add(time.Millisecond) // open waits elapse mid-burst
				case (g+i)%3 == 0:
					call(b, resilience.Success)
				default:
					call(b, resilience.Failure)
				}
			}
		})
	}
	close(start)
	wg.Wait()

	var gens []uint64
	at := "closed"
	for _, e := range rec.Events() {
		if e.Kind != resilience.EventStateChange {
			continue
		}
		require.Equal(t, at, e.From, "change %d starts where the last ended", len(gens))
		at = e.To
		gens = append(gens, e.Detail.(breaker.Snapshot).Generation)
	}
	require.NotEmpty(t, gens)
	for i, g := range gens {
		require.Equal(t, uint64(i+1), g, "change %d: generations %v", i, gens)
	}
	s := b.Snapshot()
	assert.Equal(t, s.State.String(), at, "the last change is the current state")
	assert.Equal(t, uint64(len(gens)), s.Generation, "one event per transition")
	assert.Contains(t, rec.StateChanges(), "closed->open", "the burst tripped the breaker")
}
