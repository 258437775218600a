package sqlitestore_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
)

// BenchmarkGatewayPay measures payments through a whole gateway — Claim,
// MarkStarted, the bank over loopback HTTP, Finish with the log entry, the
// replayer sending the outbox to the log — with its ledger and outbox in
// memory (the floor), in SQLite with synchronous=FULL (the default: every
// commit fsync'd) and with synchronous=NORMAL, from N payers at once. The
// simulated bank, FX and log are served on loopback with no faults; the
// payers call Gateway.Pay in-process. It reports succeeded payments per
// second, the latency of one Pay (p50, p99) and the process's CPU time per
// payment (user and system: on a machine others load too, the least
// disturbed figure; its ratio to the memory store's is the store's cost).
//
//	go test -run '^$' -bench GatewayPay -benchtime 4000x
func BenchmarkGatewayPay(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(b *testing.B) store.Store {
			m, err := store.NewMemory(store.Config{MaxOutbox: 1 << 20})
			if err != nil {
				b.Fatal(err)
			}
			return m
		}},
		{"sqlite-FULL", openGatewayBench(sqlitestore.SyncFull)},
		{"sqlite-NORMAL", openGatewayBench(sqlitestore.SyncNormal)},
	}
	for _, st := range stores {
		for _, payers := range []int{16, 64} {
			b.Run(fmt.Sprintf("%s/payers=%d", st.name, payers), func(b *testing.B) {
				s := st.open(b)
				defer s.Close()
				benchGateway(b, s, payers)
			})
		}
	}
}

func openGatewayBench(sync sqlitestore.Sync) func(b *testing.B) store.Store {
	return func(b *testing.B) store.Store {
		s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "gateway.db"),
			sqlitestore.Config{Sync: sync, Store: store.Config{MaxOutbox: 1 << 20}})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
}

// benchGateway pays b.N payments through a gateway on s from payers
// goroutines.
func benchGateway(b *testing.B, s store.Store, payers int) {
	svc, err := sim.Start(sim.ServicesConfig{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	gw := benchGatewayOn(b, svc, s, payers)
	defer gw.Close()
	var (
		next      atomic.Int64
		succeeded atomic.Int64
		mu        sync.Mutex
		lat       []time.Duration
		wg        sync.WaitGroup
	)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	for p := range payers {
		wg.Go(func() {
			var mine []time.Duration
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				req := payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("bench-%d", i), Payer: payerOf(p), Payee: payee,
					Amount: payments.New(100+i%900, payments.USD)}
				t := time.Now()
				if gw.Pay(context.Background(), req).State == gateway.Succeeded {
					succeeded.Add(1)
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime(b)-cpu0
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(succeeded.Load())/elapsed.Seconds(), "succeeded/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/payment")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if n := int64(b.N) - succeeded.Load(); n > 0 {
		b.Errorf("%d of %d payments did not succeed, with no faults", n, b.N)
	}
}

// benchGatewayOn is a gateway with the default policies on svc, whose
// accounts it opens for payers payers, and on store s.
func benchGatewayOn(b *testing.B, svc *sim.Services, s store.Store, payers int) *gateway.Gateway {
	if err := svc.Bank.Open(payee, payments.New(0, payments.USD)); err != nil {
		b.Fatal(err)
	}
	for p := range payers {
		if err := svc.Bank.Open(payerOf(p), payments.New(1_000_000_000_00, payments.USD)); err != nil {
			b.Fatal(err)
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: payers}
	b.Cleanup(tr.CloseIdleConnections)
	hc := httpapi.ClientConfig{HTTPClient: &http.Client{Transport: tr}}
	bank, err1 := httpapi.NewBankClient(svc.BankURL, hc)
	fx, err2 := httpapi.NewFXClient(svc.FXURL, hc)
	log, err3 := httpapi.NewLogClient(svc.LogURL, hc)
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			b.Fatal(err)
		}
	}
	gw, err := gateway.New(gateway.Config{Bank: bank, FX: fx, Log: log, Store: s, Instance: "bench",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return gw
}
