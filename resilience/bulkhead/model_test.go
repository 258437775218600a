package bulkhead_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience/bulkhead"
)

// TestBulkheadConcurrentBurst: goroutines drawn by rapid, released at once,
// acquire (queueing or not), hold for a few yields and release. In flight
// never exceeds MaxConcurrent; afterwards nothing is held or queued and
// every caller is accounted for.
func TestConcurrentBurst(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxC := rapid.IntRange(1, 4).Draw(t, "maxConcurrent")
		queue := rapid.IntRange(0, 4).Draw(t, "maxQueue")
		holds := rapid.SliceOfN(rapid.IntRange(0, 5), 2, 24).Draw(t, "holds")
		try := rapid.SliceOfN(rapid.Bool(), len(holds), len(holds)).Draw(t, "tryOnly")
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: maxC, MaxQueue: queue})
		if err != nil {
			t.Fatal(err)
		}
		var inFlight, peak, ok, refused atomic.Int64
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i, hold := range holds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				var p bulkhead.Permit
				var got bool
				if try[i] {
					p, got = b.TryAcquire()
				} else {
					var err error
					p, err = b.Acquire(context.Background())
					got = err == nil
				}
				if !got {
					refused.Add(1)
					return
				}
				ok.Add(1)
				cur := inFlight.Add(1)
				for old := peak.Load(); cur > old && !peak.CompareAndSwap(old, cur); old = peak.Load() {
				}
				for range hold {
					runtime.Gosched()
				}
				inFlight.Add(-1)
				p.Release()
			}()
		}
		close(gate)
		wg.Wait()
		if peak.Load() > int64(maxC) {
			t.Fatalf("%d in flight with MaxConcurrent %d", peak.Load(), maxC)
		}
		s := b.Snapshot()
		if s.InFlight != 0 || s.Queued != 0 {
			t.Fatalf("after the burst: %d in flight, %d queued", s.InFlight, s.Queued)
		}
		if s.Rejected != uint64(refused.Load()) || ok.Load()+refused.Load() != int64(len(holds)) {
			t.Fatalf("snapshot %+v, callers admitted %d refused %d of %d", s, ok.Load(), refused.Load(), len(holds))
		}
	})
}

// waiterCall is a goroutine blocked in Acquire, as the model sees it.
type waiterCall struct {
	cancel context.CancelFunc
	result chan error
	permit bulkhead.Permit
}

// TestBulkheadModel drives TryAcquire, queued Acquire, Release and
// cancellation in random order against a model holding the in-flight count
// and the FIFO queue. A release with waiters must grant the oldest.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxC := rapid.IntRange(1, 3).Draw(t, "maxConcurrent")
		maxQ := rapid.IntRange(0, 3).Draw(t, "maxQueue")
		b, err := bulkhead.New(bulkhead.Config{MaxConcurrent: maxC, MaxQueue: maxQ})
		if err != nil {
			t.Fatal(err)
		}
		var held, released []bulkhead.Permit
		var queue []*waiterCall
		defer func() { // no goroutine outlives the check
			for _, w := range queue {
				w.cancel()
				<-w.result
			}
		}()
		awaitQueued := func(n int) {
			for b.Snapshot().Queued != n {
				runtime.Gosched()
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) {
				s := b.Snapshot()
				if s.InFlight != len(held) || s.Queued != len(queue) {
					t.Fatalf("snapshot %d in flight, %d queued; model %d, %d", s.InFlight, s.Queued, len(held), len(queue))
				}
			},
			"tryAcquire": func(t *rapid.T) {
				p, ok := b.TryAcquire()
				want := len(held) < maxC && len(queue) == 0
				if ok != want {
					t.Fatalf("TryAcquire got %v, want %v", ok, want)
				}
				if ok {
					held = append(held, p)
				}
			},
			"acquire": func(t *rapid.T) {
				if len(held) < maxC {
					p, err := b.Acquire(context.Background())
					if err != nil {
						t.Fatalf("Acquire with a free slot: %v", err)
					}
					held = append(held, p)
					return
				}
				if len(queue) == maxQ {
					if _, err := b.Acquire(context.Background()); err == nil {
						t.Fatalf("Acquire with a full queue succeeded")
					}
					return
				}
				ctx, cancel := context.WithCancel(context.Background())
				w := &waiterCall{cancel: cancel, result: make(chan error, 1)}
				go func() {
					p, err := b.Acquire(ctx)
					w.permit = p
					w.result <- err
				}()
				queue = append(queue, w)
				awaitQueued(len(queue))
			},
			"release": func(t *rapid.T) {
				if len(held) == 0 {
					t.Skip("nothing held")
				}
				i := rapid.IntRange(0, len(held)-1).Draw(t, "which")
				held[i].Release()
				released = append(released, held[i]) // a copy
				held = append(held[:i], held[i+1:]...)
				if len(queue) > 0 {
					j, err := firstResult(queue)
					if j != 0 || err != nil {
						n := len(queue)
						queue = append(queue[:j], queue[j+1:]...) // returned: not to be awaited again
						t.Fatalf("release granted waiter %d of %d (err %v), want the oldest", j, n, err)
					}
					held = append(held, queue[0].permit)
					queue = queue[1:]
				}
			},
			"releaseAgain": func(t *rapid.T) {
				if len(released) == 0 {
					t.Skip("nothing released")
				}
				rapid.SampledFrom(released).Draw(t, "permit").Release()
			},
			"cancelWaiter": func(t *rapid.T) {
				if len(queue) == 0 {
					t.Skip("nobody queued")
				}
				i := rapid.IntRange(0, len(queue)-1).Draw(t, "which")
				w := queue[i]
				w.cancel()
				if err := <-w.result; err == nil {
					t.Fatalf("cancelled waiter got a slot")
				}
				queue = append(queue[:i], queue[i+1:]...)
			},
		})
	})
}

// firstResult waits for the first waiter in qs to return from Acquire and
// reports which one it was.
func firstResult(qs []*waiterCall) (int, error) {
	for {
		for j, w := range qs {
			select {
			case err := <-w.result:
				return j, err
			default:
			}
		}
		runtime.Gosched()
	}
}
