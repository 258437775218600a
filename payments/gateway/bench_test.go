package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
)

// backlog is the number of queued entries each iteration drains.
const backlog = 10_000

// BenchmarkReplayLoopback measures how fast a backlog of log entries drains
// from the outbox into a transaction log over loopback HTTP: a real
// httptest server running payments/sim's log handler, each request (one
// batch) delayed 1–5 ms, the log healthy or failing 30% of appends entry by
// entry. It reports entries/s, from gateway.New to Drain's return.
//
//	go test -run '^$' -bench ReplayLoopback -benchtime 5x ./payments/gateway/
func BenchmarkReplayLoopback(b *testing.B) {
	for _, tc := range []struct {
		name      string
		errorRate sim.Chance
	}{{"healthy", sim.Never}, {"failing_30pct", sim.Percent(30)}} {
		b.Run(tc.name, func(b *testing.B) {
			log := sim.NewLog(sim.LogConfig{Seed: 1})
			require.NoError(b, log.SetFaults(sim.LogFaults{ErrorRate: tc.errorRate}))
			inj, err := sim.NewInjector(sim.InjectorConfig{Seed: 2})
			require.NoError(b, err)
			require.NoError(b, inj.Set(sim.Faults{Latency: sim.Latency{Fixed: time.Millisecond, Jitter: 4 * time.Millisecond}}))
			srv := httptest.NewServer(sim.LogHandler(log, inj))
			defer srv.Close()
			transport := &http.Transport{MaxIdleConnsPerHost: 16}
			defer transport.CloseIdleConnections()
			client, err := httpapi.NewLogClient(srv.URL, httpapi.ClientConfig{HTTPClient: &http.Client{Transport: transport}})
			require.NoError(b, err)

			var elapsed time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				mem, err := store.NewMemory(store.Config{MaxOutbox: 2 * backlog})
				require.NoError(b, err)
				seedSucceeded(b, mem, "gw-earlier", fmt.Sprintf("it%d", i), backlog, time.Now())
				i++
				b.StartTimer()
				start := time.Now()
				gw, err := gateway.New(gateway.Config{Bank: sim.NewBank(sim.BankConfig{}), FX: sim.NewFX(sim.FXConfig{}),
					Log: client, Store: mem, Health: gateway.HealthPolicy{Disabled: true},
					ReconcileInterval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
				require.NoError(b, err)
				require.NoError(b, gw.Drain(context.Background()))
				elapsed += time.Since(start)
				b.StopTimer()
				gw.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(i*backlog)/elapsed.Seconds(), "entries/s")
		})
	}
}
