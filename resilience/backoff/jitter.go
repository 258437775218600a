package backoff

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
)

// Jitter chooses how [NewExponential] randomises its delays. Spreading
// retries of many clients apart keeps them from hitting a recovering
// dependency in synchronised waves. The zero value is NoJitter.
type Jitter uint8

// The jitter modes. With d the capped exponential delay of an attempt,
// Initial the base and Max the cap:
const (
	// NoJitter waits exactly d.
	NoJitter Jitter = iota
	// FullJitter waits a uniform random time in [0, d].
	FullJitter
	// EqualJitter waits d/2 plus a uniform random time in [0, d/2], so
	// never less than half the schedule.
	EqualJitter
	// DecorrelatedJitter ignores the attempt number and waits a uniform
	// random time in [Initial, min(Max, prev×Multiplier)], where prev is the
	// previous delay (Initial before the first): the "decorrelated" schedule
	// of the AWS analysis of backoff and jitter. It stays in [Initial, Max].
	DecorrelatedJitter
	// ProportionalJitter waits d × (1 ± Spread), uniformly, clamped to Max:
	// gRPC's schedule with Spread 0.2.
	ProportionalJitter
)

var jitterNames = [...]string{"none", "full", "equal", "decorrelated", "proportional"}

// String returns the mode in lower case ("full").
func (j Jitter) String() string {
	if int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return fmt.Sprintf("Jitter(%d)", uint8(j))
}

// random draws jitter. A nil *random uses math/rand/v2's top-level
// functions, which are safe for concurrent use without a lock (each thread
// has its own generator) and cost a few nanoseconds. An injected source is
// not safe for concurrent use in general, so calls to it are serialised.
type random struct {
	mu sync.Mutex // protects r
	r  *rand.Rand
}

func newRandom(src rand.Source) *random {
	if src == nil {
		return nil
	}
	return &random{r: rand.New(src)}
}

// uint64 returns a uniform 64-bit number.
func (g *random) uint64() uint64 {
	if g == nil {
		return rand.Uint64()
	}
	return g.locked()
}

// locked draws from the injected source; kept apart so uint64 inlines.
func (g *random) locked() uint64 {
	g.mu.Lock()
	v := g.r.Uint64()
	g.mu.Unlock()
	return v
}

// below returns a number in [0, n) as the high word of a 128-bit product:
// one draw, no division and no rejection loop. Each value's probability is
// off by at most n/2^64 relative (under 1e-7 for any delay below half an
// hour), which jitter can afford.
func (g *random) below(n uint64) uint64 {
	hi, _ := bits.Mul64(g.uint64(), n)
	return hi
}
