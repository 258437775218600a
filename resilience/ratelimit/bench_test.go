package ratelimit_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// Run: go test -run '^$' -bench . -benchmem ./resilience/ratelimit/

var sinkTime time.Time

// BenchmarkTimeNow is the baseline: every Allow reads the clock once.
func BenchmarkTimeNow(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			sinkTime = time.Now()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var t time.Time
			for pb.Next() {
				t = time.Now()
			}
			_ = t
		})
	})
	// What the limiter reads with the default clock: the monotonic clock
	// alone.
	b.Run("since/serial", func(b *testing.B) {
		epoch := time.Now()
		var d time.Duration
		for b.Loop() {
			d += time.Since(epoch)
		}
		sinkTime = epoch.Add(d)
	})
}

func mustLimiter(b *testing.B, r ratelimit.Rate, burst int) *ratelimit.Limiter {
	l, err := ratelimit.New(r, burst)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkAllow measures Allow admitting (a rate no loop can exhaust) and
// refusing (an exhausted bucket: no CAS).
func BenchmarkAllow(b *testing.B) {
	for _, c := range []struct {
		name  string
		rate  ratelimit.Rate
		burst int
	}{
		{"admit", ratelimit.PerSecond(1_000_000_000), 1_000_000},
		{"refuse", ratelimit.Every(time.Hour), 1},
	} {
		b.Run(c.name+"/serial", func(b *testing.B) {
			l := mustLimiter(b, c.rate, c.burst)
			for b.Loop() {
				l.Allow()
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			l := mustLimiter(b, c.rate, c.burst)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Allow()
				}
			})
		})
	}
}

// BenchmarkAllowFloor is what an admission cannot go below, to read
// beside BenchmarkAllow/admit: every admission must write one shared word
// (the TAT), so one atomic add on a padded word is the floor of the
// synchronisation, and with the clock read every call needs it is the floor
// of Allow. In parallel the add moves the word's cache line between CPUs on
// every call, as the limiter's CAS does.
func BenchmarkAllowFloor(b *testing.B) {
	// The word sits alone on its cache line, as the limiter's TAT does.
	type paddedWord struct {
		_ [64]byte
		n atomic.Int64
		_ [56]byte
	}
	b.Run("add/serial", func(b *testing.B) {
		w := new(paddedWord)
		for b.Loop() {
			w.n.Add(1)
		}
	})
	b.Run("add/parallel", func(b *testing.B) {
		w := new(paddedWord)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w.n.Add(1)
			}
		})
	})
	epoch := time.Now()
	b.Run("since+add/serial", func(b *testing.B) {
		w := new(paddedWord)
		for b.Loop() {
			w.n.Add(int64(time.Since(epoch)))
		}
	})
	b.Run("since+add/parallel", func(b *testing.B) {
		w := new(paddedWord)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w.n.Add(int64(time.Since(epoch)))
			}
		})
	})
}

func BenchmarkAllowN(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		l := mustLimiter(b, ratelimit.PerSecond(1_000_000_000), 1_000_000)
		for b.Loop() {
			l.AllowN(5)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		l := mustLimiter(b, ratelimit.PerSecond(1_000_000_000), 1_000_000)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.AllowN(5)
			}
		})
	})
}

// BenchmarkGuard runs an error-only call through a chain holding the
// limiter alone, admitting and refusing; the chain's own cost is part of
// the figure.
func BenchmarkGuard(b *testing.B) {
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	for _, c := range []struct {
		name  string
		rate  ratelimit.Rate
		burst int
	}{
		{"admit", ratelimit.PerSecond(1_000_000_000), 1_000_000},
		{"refuse", ratelimit.Every(time.Hour), 1},
	} {
		b.Run(c.name+"/serial", func(b *testing.B) {
			ch := resilience.NewChain(mustLimiter(b, c.rate, c.burst))
			for b.Loop() {
				_ = ch.Run(ctx, op)
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			ch := resilience.NewChain(mustLimiter(b, c.rate, c.burst))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = ch.Run(ctx, op)
				}
			})
		})
	}
}

func BenchmarkKeyedAllow(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("198.51.%d.%d", i/256, i%256)
	}
	newKeyed := func(b *testing.B) *ratelimit.Keyed {
		// Keys stay busy (1ms of debt per call), so this is the hit path.
		k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Millisecond), Burst: 1_000_000})
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	b.Run("serial", func(b *testing.B) {
		k := newKeyed(b)
		i := 0
		for b.Loop() {
			k.Allow(keys[i&1023])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		k := newKeyed(b)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				k.Allow(keys[i&1023])
				i += 7
			}
		})
	})
}

// BenchmarkKeyedMemoryPerKey reports the heap held per tracked key (entry,
// map slot and the key's own copy of a 13-byte IP string) as B/key.
func BenchmarkKeyedMemoryPerKey(b *testing.B) {
	const n = 100_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)
	}
	var perKey float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Hour), Burst: 1, MaxKeys: n})
		if err != nil {
			b.Fatal(err)
		}
		for _, key := range keys {
			k.Allow(key)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s := k.Snapshot(); s.Keys != n {
			b.Fatalf("%d keys tracked, want %d", s.Keys, n)
		}
		perKey = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(k)
	}
	b.ReportMetric(perKey, "B/key")
}
