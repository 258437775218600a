package throttle_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/throttle"
)

var errBurst = errors.New("burst failure")

// TestBurstConservesCounts releases many goroutines together through one
// throttle and checks that every call is counted once: requests equal
// admitted plus throttled calls, and accepts never exceed admitted ones.
// Every input is drawn on the test goroutine; the clock stands still, so
// the window holds every call.
func TestBurstConservesCounts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		thr, err := throttle.New(throttle.Config{
			Seed:  rapid.Uint64Range(1, 1<<20).Draw(t, "seed"),
			K:     rapid.SampledFrom([]float64{1, 2}).Draw(t, "k"),
			Clock: clock.NewMock(),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		workers := rapid.IntRange(2, 12).Draw(t, "workers")
		scripts := make([][]int, workers) // 0 success, 1 failure, 2 ignored
		total := 0
		for i := range scripts {
			scripts[i] = rapid.SliceOfN(rapid.IntRange(0, 2), 1, 40).Draw(t, "script")
			total += len(scripts[i])
		}
		var entered, succeeded, failed, refused, other atomic.Int64
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, script := range scripts {
			wg.Go(func() {
				<-start
				for _, step := range script {
					err := resilience.Run(context.Background(), func(context.Context) error {
						entered.Add(1)
						switch step {
						case 0:
							succeeded.Add(1)
							return nil
						case 1:
							failed.Add(1)
							return errBurst
						}
						return resilience.Reject("bulkhead", "inner", errBurst, 0)
					}, thr)
					switch {
					case errors.Is(err, throttle.ErrThrottled):
						refused.Add(1)
					case err != nil && !errors.Is(err, errBurst):
						other.Add(1)
					}
				}
			})
		}
		close(start)
		wg.Wait()

		s := thr.Snapshot()
		if other.Load() != 0 {
			t.Fatalf("%d calls ended with an unexpected error", other.Load())
		}
		if got := s.Admitted + s.Throttled; got != uint64(total) {
			t.Fatalf("admitted %d + throttled %d = %d, want %d calls", s.Admitted, s.Throttled, got, total)
		}
		if s.Admitted != uint64(entered.Load()) || s.Throttled != uint64(refused.Load()) {
			t.Fatalf("snapshot %+v, but %d entered and %d were refused", s.Totals, entered.Load(), refused.Load())
		}
		if s.Successes != uint64(succeeded.Load()) || s.Failures != uint64(failed.Load()) ||
			s.Successes+s.Failures+s.Ignored != s.Admitted {
			t.Fatalf("snapshot %+v, want %d successes and %d failures", s.Totals, succeeded.Load(), failed.Load())
		}
		if s.Requests != int64(s.Throttled+s.Successes+s.Failures) || s.Accepts != int64(s.Successes) {
			t.Fatalf("window %d requests, %d accepts; totals %+v", s.Requests, s.Accepts, s.Totals)
		}
		if s.Accepts > int64(s.Admitted) {
			t.Fatalf("accepts %d > admitted %d", s.Accepts, s.Admitted)
		}
	})
}
