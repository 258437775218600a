package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
)

// BenchmarkClaimFinish records payments as the gateway does on its hot
// path — Claim, then Finish with the log entry — and reports payments per
// second and the latency of the pair (p50, p99), for the in-memory store
// (the floor) and SQLite with synchronous=FULL and NORMAL, from one caller
// and from 16 at once (where group commit shares each fsync).
//
//	go test -run '^$' -bench ClaimFinish -benchtime 3s ./...
func BenchmarkClaimFinish(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(b *testing.B) store.Store {
			m, _ := store.NewMemory(store.Config{MaxOutbox: 1 << 30})
			return m
		}},
		{"sqlite-FULL", openBench(sqlitestore.SyncFull)},
		{"sqlite-NORMAL", openBench(sqlitestore.SyncNormal)},
	}
	for _, st := range stores {
		for _, workers := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/workers=%d", st.name, workers), func(b *testing.B) {
				s := st.open(b)
				defer s.Close()
				benchPayments(b, s, workers)
			})
		}
	}
}

func openBench(sync sqlitestore.Sync) func(b *testing.B) store.Store {
	return func(b *testing.B) store.Store {
		s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "bench.db"),
			sqlitestore.Config{Sync: sync, Store: store.Config{MaxOutbox: 1 << 30}})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
}

func benchPayments(b *testing.B, s store.Store, workers int) {
	var (
		next atomic.Int64
		mu   sync.Mutex
		lat  []time.Duration
	)
	b.SetParallelism((workers + 1) / 2) // GOMAXPROCS is 2 on the reference machine
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := next.Add(1)
			req := payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("bench-%d", i), Payer: "acct_alice0001",
				Payee: "acct_bob00002", Amount: payments.New(100+i, payments.USD)}
			t := time.Now()
			res, err := s.Claim(ctx, req, lease("gw"))
			if err != nil {
				b.Error(err)
				return
			}
			if err := s.Finish(ctx, req.IdempotencyKey, res.Record.Claim.Token, success, entryOf(req)); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "payments/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
