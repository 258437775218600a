package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/throttle"
)

// A throttle in a chain runs as a Stepper; the same throttle behind a
// GuardFunc runs through its Guard. Two throttles of one seed fed the same
// calls, one each way, refuse the same calls and end with the same counts.
func TestSteppedThrottleMatchesItsGuard(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64Range(1, 1<<62).Draw(rt, "seed")
		stepped, _ := newThrottle(t, throttle.Config{Seed: seed, MinRequests: 2})
		guarded, _ := newThrottle(t, throttle.Config{Seed: seed, MinRequests: 2})
		viaSteps := resilience.NewChain(stepped)
		viaGuard := resilience.NewChain(resilience.GuardFunc(guarded.Guard))
		for i := range rapid.IntRange(1, 80).Draw(rt, "calls") {
			what := rapid.SampledFrom([]string{"ok", "fail", "panic"}).Draw(rt, fmt.Sprint("call", i))
			a, b := runThrottled(viaSteps, what), runThrottled(viaGuard, what)
			require.Equal(rt, b, a, "call %d (%s)", i, what)
			require.Equal(rt, guarded.Snapshot(), stepped.Snapshot(), "after call %d (%s)", i, what)
		}
	})
}

func runThrottled(c resilience.Chain, what string) (ended string) {
	defer func() {
		if r := recover(); r != nil {
			ended = fmt.Sprint("panic: ", r)
		}
	}()
	return fmt.Sprint(c.Run(context.Background(), func(context.Context) error {
		switch what {
		case "fail":
			return errors.New("boom")
		case "panic":
			panic("boom")
		}
		return nil
	}))
}

// A classifier that panics in a stepped chain counts the call once, as a
// failure, and the panic reaches the caller.
func TestSteppedThrottleClassifierPanicCountsOnce(t *testing.T) {
	thr, _ := newThrottle(t, throttle.Config{Classifier: func(context.Context, error) resilience.Outcome { panic("bad classifier") }})
	assert.PanicsWithValue(t, "bad classifier", func() {
		_ = resilience.Run(context.Background(), func(context.Context) error { return nil }, thr)
	})
	s := thr.Snapshot()
	assert.Equal(t, uint64(1), s.Failures)
	assert.Equal(t, int64(1), s.Requests)
}
