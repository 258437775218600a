package hedge_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/hedge"
)

var errBank = errors.New("bank failed")

// step is what one attempt of a scripted function does: answer after
// Delay, with its number as value unless Err is set; IgnoreCtx makes it
// finish its wait even when cancelled; Panic makes it panic after Delay.
type step struct {
	Delay     time.Duration
	Err       error
	Value     string
	IgnoreCtx bool
	Panic     any
}

// script runs steps in the order attempts start and records what they saw.
type script struct {
	steps   []step
	started atomic.Int64
	live    atomic.Int64

	mu        sync.Mutex
	cancelled []int // attempts that saw their context end
}

func newScript(steps ...step) *script { return &script{steps: steps} }

func (s *script) fn(ctx context.Context) (string, error) {
	i := int(s.started.Add(1)) - 1
	s.live.Add(1)
	defer s.live.Add(-1)
	if i >= len(s.steps) {
		return "", fmt.Errorf("attempt %d not scripted", i)
	}
	st := s.steps[i]
	t := time.NewTimer(st.Delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		s.mu.Lock()
		s.cancelled = append(s.cancelled, i)
		s.mu.Unlock()
		if !st.IgnoreCtx {
			return "", ctx.Err()
		}
		<-t.C
	}
	if st.Panic != nil {
		panic(st.Panic)
	}
	if st.Value == "" {
		st.Value = fmt.Sprintf("attempt %d", i)
	}
	return st.Value, st.Err
}

func (s *script) cancelledAttempts() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.cancelled...)
}

func newHedger(t *testing.T, cfg hedge.Config) *hedge.Hedger {
	t.Helper()
	h, err := hedge.New(cfg)
	require.NoError(t, err)
	return h
}

// execute runs s through a pipeline of h and reports how long it took.
func execute(ctx context.Context, h *hedge.Hedger, s *script) (string, time.Duration, error) {
	start := time.Now()
	v, err := resilience.NewPipeline[string](h).Execute(ctx, s.fn)
	return v, time.Since(start), err
}

// budget is a Budget that grants a fixed number of hedges.
type budget struct {
	requests atomic.Int64
	left     atomic.Int64
}

func (b *budget) Request()         { b.requests.Add(1) }
func (b *budget) AllowRetry() bool { return b.left.Add(-1) >= 0 }

// recorder keeps events. TODO(resiliencetest): use resiliencetest.Recorder.
type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) listen(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resilience.Event(nil), r.events...)
}
