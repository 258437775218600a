package resilience_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
)

// eachRanItsOwn closes ch, which received the value each late run saw, and
// checks that run i saw i: its own call's function.
func eachRanItsOwn(t *testing.T, ch chan int, calls int, what string) {
	t.Helper()
	close(ch)
	seen := make(map[int]bool)
	for v := range ch {
		seen[v] = true
	}
	for i := range calls {
		assert.True(t, seen[i], "%s %d ran another function", what, i)
	}
}

// lateFork forks next and runs the fork on a goroutine after the guard has
// returned, as an abandoning timeout does; the fork's result is sent on
// out. Reusing the call must not change what the fork runs.
func lateFork(out chan<- int, release <-chan struct{}, wg *sync.WaitGroup) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		f := next.Fork()
		wg.Go(func() {
			<-release
			_ = f.Run(context.Background())
			v, _ := resilience.Result[int](f)
			out <- v
		})
		return nil
	})
}

// Calls reuse their records, and a fork run after its call ended, and
// after many later calls, still runs its own function and fills its own
// slot.
func TestAForkOutlivingItsCallKeepsItsOwnFunction(t *testing.T) {
	const calls = 50
	out := make(chan int, calls)
	release := make(chan struct{})
	var wg sync.WaitGroup
	p := resilience.NewPipeline[int](lateFork(out, release, &wg))
	plain := resilience.NewPipeline[int](pass)
	ctx := context.Background()
	for i := range calls {
		_, err := p.Execute(ctx, func(context.Context) (int, error) { return i, nil })
		require.NoError(t, err)
		// Other calls, which may reuse any free record.
		for j := range 10 {
			v, err := plain.Execute(ctx, func(context.Context) (int, error) { return -j, nil })
			require.NoError(t, err)
			require.Equal(t, -j, v)
		}
	}
	close(release)
	wg.Wait()
	eachRanItsOwn(t, out, calls, "the fork of call")
}

// The same for a chain, whose top-level fork is the call itself: a forked
// chain call is never reused.
func TestAChainForkOutlivingItsCallKeepsItsOwnFunction(t *testing.T) {
	const calls = 50
	ran := make(chan int, calls)
	release := make(chan struct{})
	var wg sync.WaitGroup
	forking := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		f := next.Fork()
		wg.Go(func() {
			<-release
			_ = f.Run(context.Background())
		})
		return nil
	})
	c := resilience.NewChain(forking)
	plain := resilience.NewChain(pass)
	ctx := context.Background()
	for i := range calls {
		require.NoError(t, c.Run(ctx, func(context.Context) error { ran <- i; return nil }))
		for range 10 {
			require.NoError(t, plain.Run(ctx, func(context.Context) error { return nil }))
		}
	}
	close(release)
	wg.Wait()
	eachRanItsOwn(t, ran, calls, "the fork of call")
}

// lazyPolicy returns before calling its next Func, which a goroutine calls
// later: an adapted Policy may do that, so its call is kept.
type lazyPolicy struct {
	release <-chan struct{}
	out     chan<- int
	wg      *sync.WaitGroup
}

func (l lazyPolicy) Wrap(next resilience.Func[int]) resilience.Func[int] {
	return func(ctx context.Context) (int, error) {
		l.wg.Go(func() {
			<-l.release
			v, _ := next(context.Background())
			l.out <- v
		})
		return 0, nil
	}
}

func TestAnAdaptedPolicyCallingItsNextLaterKeepsItsOwnFunction(t *testing.T) {
	const calls = 50
	out := make(chan int, calls)
	release := make(chan struct{})
	var wg sync.WaitGroup
	p := resilience.NewPipeline[int](resilience.Adapt[int](lazyPolicy{release, out, &wg}))
	plain := resilience.NewPipeline[int](pass)
	ctx := context.Background()
	for i := range calls {
		_, err := p.Execute(ctx, func(context.Context) (int, error) { return i, nil })
		require.NoError(t, err)
		for j := range 10 {
			_, _ = plain.Execute(ctx, func(context.Context) (int, error) { return -j, nil })
		}
	}
	close(release)
	wg.Wait()
	eachRanItsOwn(t, out, calls, "the late next Func of call")
}
