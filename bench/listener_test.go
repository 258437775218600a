package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// BenchmarkBreakerListener: the closed success of BenchmarkBreakerClosed
// with a counting listener attached, as riprap-permit (two-step) and
// riprap (through a pipeline). lib=riprap-none has no listener, the others
// one that counts the events it receives: OnStateChange (state changes
// only, none of which a closed success makes) and OnEvent (every kind),
// the latter also with Config.CoarseClock (onevent-coarse).
// Issue 15's goal: a listener costs at most 2× the call without one.
func BenchmarkBreakerListener(b *testing.B) {
	ctx := context.Background()
	for _, l := range []struct {
		name      string
		listeners func(*atomic.Uint64) resilience.Listeners
	}{
		{"none", func(*atomic.Uint64) resilience.Listeners { return nil }},
		{"onstatechange", func(n *atomic.Uint64) resilience.Listeners {
			return resilience.Listeners{resilience.OnStateChange(func(resilience.Event) { n.Add(1) })}
		}},
		{"onevent", func(n *atomic.Uint64) resilience.Listeners {
			return resilience.Listeners{resilience.OnEvent(func(resilience.Event) { n.Add(1) })}
		}},
		{"onevent-coarse", func(n *atomic.Uint64) resilience.Listeners {
			return resilience.Listeners{resilience.OnEvent(func(resilience.Event) { n.Add(1) })}
		}},
	} {
		newBreaker := func(b *testing.B) *breaker.Breaker {
			var n atomic.Uint64
			cfg := breakerConfig()
			cfg.Listeners = l.listeners(&n)
			// An outcome event carries the call's start and end: two clock
			// reads per call, unless the breaker uses the coarse clock.
			cfg.CoarseClock = l.name == "onevent-coarse"
			br, err := breaker.New(cfg)
			require.NoError(b, err)
			return br
		}
		b.Run("lib=riprap-permit-"+l.name, func(b *testing.B) {
			br := newBreaker(b)
			both(b, func() { permitCall(br, resilience.Success) })
		})
		b.Run("lib=riprap-"+l.name, func(b *testing.B) {
			f := wrap(okCtx, newBreaker(b))
			both(b, func() { _, _ = f(ctx) })
		})
	}
	// The floor of a listener of every kind: the two-step call with no
	// listener, then an outcome event built and handed by value to a
	// func(Event) that counts it, as Listener.Func is called. It reads no
	// clock (the event's times are taken as given), so the two clock reads
	// of lib=riprap-permit-onevent, or the coarse clock's loads, come on
	// top of it.
	b.Run("lib=floor-permit-event", func(b *testing.B) {
		var n atomic.Uint64
		listener := countingListener(&n)
		br, err := breaker.New(breakerConfig())
		require.NoError(b, err)
		at := time.Now()
		both(b, func() {
			permitCall(br, resilience.Success)
			listener(resilience.Event{Kind: resilience.EventOutcome, Policy: "breaker", Name: "bench",
				Time: at, Outcome: resilience.Success, Duration: time.Microsecond})
		})
	})
}

// countingListener returns a listener function that counts its events,
// from a function the compiler cannot inline into the benchmark loop.
//
//go:noinline
func countingListener(n *atomic.Uint64) func(resilience.Event) {
	return func(resilience.Event) { n.Add(1) }
}
