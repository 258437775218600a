package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// call is one AllowNAt a goroutine will make: n events at offset from t0.
type call struct {
	offset time.Duration
	n      int
}

type admitted struct {
	at time.Duration
	n  int
}

// runBurst releases one goroutine per plan at once; each makes its calls in
// order through allowAt and reports what was admitted. Every goroutine's
// times increase, but the limiter sees them interleaved, hence out of
// order: the situation golang/go#65508 and #71360 are about.
func runBurst(t0 time.Time, plans [][]call, allowAt func(time.Time, int) bool) []admitted {
	var (
		mu   sync.Mutex
		got  []admitted
		wg   sync.WaitGroup
		gate = make(chan struct{})
	)
	for _, plan := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for _, c := range plan {
				if allowAt(t0.Add(c.offset), c.n) {
					mu.Lock()
					got = append(got, admitted{c.offset, c.n})
					mu.Unlock()
				}
			}
		}()
	}
	close(gate)
	wg.Wait()
	return got
}

// overAdmission returns a description of the first window [a, b] of
// timestamps in which more than burst + (b−a)/interval events were
// admitted, or "" if there is none. A limiter starting full can never be
// made to exceed that bound, whatever the interleaving.
func overAdmission(got []admitted, burst int, interval time.Duration) string {
	for _, a := range got {
		for _, b := range got {
			if b.at < a.at {
				continue
			}
			sum := 0
			for _, e := range got {
				if e.at >= a.at && e.at <= b.at {
					sum += e.n
				}
			}
			if bound := burst + int((b.at-a.at)/interval); sum > bound {
				return fmt.Sprintf("%d events in [%v, %v], bound %d", sum, a.at, b.at, bound)
			}
		}
	}
	return ""
}

func drawPlans(t *rapid.T, burst int, interval time.Duration) [][]call {
	goroutines := rapid.IntRange(2, 8).Draw(t, "goroutines")
	plans := make([][]call, goroutines)
	for g := range plans {
		var off time.Duration
		steps := rapid.IntRange(1, 12).Draw(t, "calls")
		for range steps {
			off += time.Duration(rapid.Int64Range(0, int64(interval)).Draw(t, "step"))
			plans[g] = append(plans[g], call{off, rapid.IntRange(1, burst).Draw(t, "n")})
		}
	}
	return plans
}

// TestConcurrentBurstRespectsEveryWindow: goroutines drawn by rapid call
// AllowNAt with their own increasing clocks, interleaved by the scheduler;
// in every window of timestamps the limiter admits at most burst +
// window/interval events.
func TestConcurrentBurstRespectsEveryWindow(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		burst := rapid.IntRange(1, 5).Draw(t, "burst")
		interval := time.Duration(rapid.IntRange(1, 100).Draw(t, "intervalMs")) * time.Millisecond
		plans := drawPlans(t, burst, interval)
		l, err := ratelimit.New(ratelimit.Every(interval), burst)
		if err != nil {
			t.Fatal(err)
		}
		got := runBurst(time.Now(), plans, l.AllowNAt)
		if msg := overAdmission(got, burst, interval); msg != "" {
			t.Fatalf("over-admission %s", msg)
		}
	})
}

// TestConcurrentBurstAtOneInstant: at a single instant of the mock clock,
// goroutines race AllowN, SetBurst and SetRate (finite). Tokens never grow
// at an instant, so at most the initial burst is admitted; and every
// refused request asked for more than was left at the end, so the limiter
// never refused what the model would have admitted in some order.
func TestConcurrentBurstAtOneInstant(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mock := clock.NewMock()
		burst := rapid.IntRange(1, 10).Draw(t, "burst")
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: burst, Clock: mock})
		if err != nil {
			t.Fatal(err)
		}
		goroutines := rapid.IntRange(2, 8).Draw(t, "goroutines")
		ns := make([][]int, goroutines)
		changes := make([]int, goroutines) // 0: none, >0: SetBurst(k), <0: SetRate(Every(−k ms))
		for g := range ns {
			ns[g] = rapid.SliceOfN(rapid.IntRange(1, 3), 1, 10).Draw(t, "ns")
			changes[g] = rapid.IntRange(-3, 3).Draw(t, "change")
		}
		var admittedN atomic.Int64
		var refused sync.Map
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for g := range ns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				for i, n := range ns[g] {
					if i == len(ns[g])/2 && changes[g] > 0 {
						_ = l.SetBurst(changes[g])
					} else if i == len(ns[g])/2 && changes[g] < 0 {
						_ = l.SetRate(ratelimit.Every(time.Duration(-changes[g]) * time.Millisecond))
					}
					if l.AllowN(n) {
						admittedN.Add(int64(n))
					} else {
						refused.Store(n, true)
					}
				}
			}()
		}
		close(gate)
		wg.Wait()
		if got := admittedN.Load(); got > int64(burst) {
			t.Fatalf("admitted %d events at one instant with burst %d", got, burst)
		}
		left := l.Snapshot().Tokens
		refused.Range(func(k, _ any) bool {
			if n := k.(int); n <= left {
				t.Fatalf("refused n=%d although %d tokens are left", n, left)
			}
			return true
		})
		if left < 0 {
			t.Fatalf("AllowN drove tokens to %d", left)
		}
	})
}

// TestConcurrentReserveCancelAccounting: at one instant, goroutines race
// AllowN, ReserveN and Cancel (of any earlier reservation of their own, so
// often not the latest). Nothing refills, so the tokens left must be
// exactly the burst minus every admission whose tokens were not given back;
// and by act time no window may hold more than the bound, which a Cancel
// returning tokens that a later reservation was scheduled from would break.
func TestConcurrentReserveCancelAccounting(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		burst := rapid.IntRange(1, 8).Draw(t, "burst")
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: burst, Clock: clock.NewMock()})
		if err != nil {
			t.Fatal(err)
		}
		type op struct{ kind, n, idx int } // kind 0 AllowN, 1 ReserveN, 2 Cancel reservation idx
		plans := rapid.SliceOfN(rapid.SliceOfN(rapid.Custom(func(t *rapid.T) op {
			return op{rapid.IntRange(0, 2).Draw(t, "kind"), rapid.IntRange(1, 3).Draw(t, "n"), rapid.IntRange(0, 5).Draw(t, "idx")}
		}), 1, 8), 1, 6).Draw(t, "plans")
		var (
			mu       sync.Mutex
			consumed int
			live     = map[*ratelimit.Reservation]admitted{} // not given back
			allowed  []admitted
			wg       sync.WaitGroup
			gate     = make(chan struct{})
		)
		for _, plan := range plans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				var mine []*ratelimit.Reservation
				for _, o := range plan {
					switch {
					case o.kind == 0 && l.AllowN(o.n):
						mu.Lock()
						consumed += o.n
						allowed = append(allowed, admitted{0, o.n})
						mu.Unlock()
					case o.kind == 1:
						if r := l.ReserveN(o.n); r.OK() {
							mine = append(mine, r)
							mu.Lock()
							consumed += o.n
							live[r] = admitted{r.Delay(), o.n}
							mu.Unlock()
						}
					case o.kind == 2 && len(mine) > 0:
						r := mine[o.idx%len(mine)]
						if r.Cancel() {
							mu.Lock()
							consumed -= live[r].n
							delete(live, r)
							mu.Unlock()
						}
					}
				}
			}()
		}
		close(gate)
		wg.Wait()
		if got, want := l.Snapshot().Tokens, burst-consumed; got != want {
			t.Fatalf("tokens left %d, want burst %d − consumed %d = %d", got, burst, consumed, want)
		}
		for _, a := range live {
			allowed = append(allowed, a)
		}
		if msg := overAdmission(allowed, burst, time.Second); msg != "" {
			t.Fatalf("over-admission by act time: %s", msg)
		}
	})
}

// TestConcurrentAllowAndGuardAdmitExactlyTheBurst: at one instant of the
// mock clock, goroutines race Allow and calls through a chain holding the
// limiter, the two callers of the lean admission path. Nothing refills, so
// however the CASes interleave exactly the burst is admitted: one more
// would be over-admission, one fewer a lost token.
func TestConcurrentAllowAndGuardAdmitExactlyTheBurst(t *testing.T) {
	// Twice as many attempts as tokens, in long runs, so that the
	// goroutines overlap and their CASes collide.
	const burst, goroutines, calls = 4000, 4, 2000
	ctx := context.Background()
	for round := range 5 {
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: burst, Clock: clock.NewMock()})
		require.NoError(t, err)
		ch := resilience.NewChain(l)
		var admitted, ran atomic.Int64
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for g := range goroutines {
			wg.Go(func() {
				<-gate
				for i := range calls {
					if (g+i)%2 == 0 {
						if l.Allow() {
							admitted.Add(1)
						}
						continue
					}
					err := ch.Run(ctx, func(context.Context) error { ran.Add(1); return nil })
					if err == nil {
						admitted.Add(1)
					} else {
						assert.True(t, errors.Is(err, ratelimit.ErrLimited), "round %d: %v", round, err)
					}
				}
			})
		}
		close(gate)
		wg.Wait()
		require.Equal(t, int64(burst), admitted.Load(), "round %d", round)
		assert.LessOrEqual(t, ran.Load(), int64(burst), "round %d", round)
		assert.Zero(t, l.Snapshot().Tokens, "round %d", round)
	}
}
