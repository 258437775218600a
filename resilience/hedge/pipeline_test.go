package hedge_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/hedge"
)

func TestMockClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewMock()
		h := newHedger(t, hedge.Config{Delay: time.Minute, Clock: clk})
		release := make(chan struct{})
		attempts := make(chan int, 2)
		n := 0
		var mu sync.Mutex
		fn := func(ctx context.Context) (string, error) {
			mu.Lock()
			n++
			i := n
			mu.Unlock()
			attempts <- i
			if i == 1 {
				<-ctx.Done()
				return "", ctx.Err()
			}
			<-release
			return fmt.Sprint("attempt ", i), nil
		}
		done := make(chan string)
		go func() {
			v, err := resilience.NewPipeline[string](h).Execute(context.Background(), fn)
			assert.NoError(t, err)
			done <- v
		}()
		assert.Equal(t, 1, <-attempts)
		synctest.Wait()
		clk.Add(time.Minute)
		assert.Equal(t, 2, <-attempts)
		close(release)
		assert.Equal(t, "attempt 2", <-done)
	})
}

func TestErrorOnlyChain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		s := newScript(step{Delay: time.Second}, step{Delay: 10 * time.Millisecond})
		start := time.Now()
		err := resilience.Run(context.Background(), func(ctx context.Context) error {
			_, err := s.fn(ctx)
			return err
		}, h)
		require.NoError(t, err)
		assert.Equal(t, 60*time.Millisecond, time.Since(start))
	})
}

func TestNestedPipelineTakesTheWinnersValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 50 * time.Millisecond})
		inner := resilience.NewPipeline[string](h)
		outer := resilience.NewPipeline[string](inner)
		s := newScript(step{Delay: time.Second}, step{Delay: 10 * time.Millisecond})
		v, err := outer.Execute(context.Background(), s.fn)
		require.NoError(t, err)
		assert.Equal(t, "attempt 1", v)
	})
}

// TestConcurrentCallsKeepTheirOwnAnswers runs many calls at once, some
// answered by their first attempt and some by a hedge, so that reused call
// state would show as one call's answer reaching another.
func TestConcurrentCallsKeepTheirOwnAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHedger(t, hedge.Config{Delay: 20 * time.Millisecond, MaxHedges: 2})
		p := resilience.NewPipeline[string](h)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				for j := range 5 {
					id := fmt.Sprintf("call %d.%d", i, j)
					slow := (i+j)%3 == 0
					attempt := 0
					var mu sync.Mutex
					v, err := p.Execute(context.Background(), func(ctx context.Context) (string, error) {
						mu.Lock()
						attempt++
						first := attempt == 1
						mu.Unlock()
						d := time.Duration(1+i%7) * time.Millisecond
						if slow && first {
							d = time.Second
						}
						select {
						case <-time.After(d):
							return id, nil
						case <-ctx.Done():
							return "", ctx.Err()
						}
					})
					assert.NoError(t, err)
					assert.Equal(t, id, v)
				}
			})
		}
		wg.Wait()
		snap := h.Snapshot()
		assert.Equal(t, uint64(1000), snap.Calls)
		assert.Equal(t, snap.Hedges, snap.HedgeWins, "every hedge made was for a slow first attempt, and won")
		assert.Positive(t, snap.HedgeWins)
	})
}

func TestEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		h := newHedger(t, hedge.Config{Name: "status", Delay: 50 * time.Millisecond, MaxHedges: 2,
			Listeners: resilience.Listeners{resilience.OnEvent(rec.listen)}})
		s := newScript(step{Delay: time.Second}, step{Delay: time.Second}, step{Delay: 10 * time.Millisecond})
		_, _, err := execute(context.Background(), h, s)
		require.NoError(t, err)
		events := rec.all()
		require.Len(t, events, 2)
		for i, e := range events {
			assert.Equal(t, resilience.EventRetry, e.Kind)
			assert.Equal(t, "hedge", e.Policy)
			assert.Equal(t, "status", e.Name)
			assert.Equal(t, "hedge", e.Reason)
			assert.Equal(t, i+2, e.Attempt)
			assert.Equal(t, 50*time.Millisecond, e.Delay)
		}
	})
}
