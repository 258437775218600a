package gobreakerbench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

const (
	instances = 4
	callTime  = 200 * time.Millisecond
)

var errBank = errors.New("bank down")

// bankCall stands for the guarded call: it answers after callTime, or
// fails at once when the bank is down.
func bankCall(ctx context.Context, down bool) error {
	if down {
		return errBank
	}
	t := time.NewTimer(callTime)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// instance is one member of a fleet under test: a function making one
// guarded call.
type instance func(ctx context.Context, down bool) error

// run makes rounds of one call per instance, all at once, and reports the
// wall time and the Redis round trips per call: the commands the clients
// sent through the counting proxy (none of them pipelines), and for riprap
// also as counted by a go-redis hook on its clients (gobreaker's store
// builds its own client, so a hook cannot reach it). INFO commandstats is
// logged too; it also counts the commands scripts run inside the server.
//
// settle, if set, waits for the background work the calls caused (riprap
// publishes an opening after the call that tripped has returned), so that
// the count includes it.
func run(b *testing.B, srv *redistest.Server, proxy *redistest.Proxy, fleet []instance, down bool, hook *atomic.Int64, settle func()) {
	ctx := context.Background()
	admin := srv.Client(b)
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	proxy.Reset()
	if hook != nil {
		hook.Store(0)
	}
	calls := 0
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for _, call := range fleet {
			wg.Go(func() { _ = call(ctx, down) })
		}
		wg.Wait()
		calls += len(fleet)
	}
	b.StopTimer()
	if settle != nil {
		settle()
	}
	stats, err := srv.CommandCalls(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
	b.ReportMetric(float64(proxy.Commands())/float64(calls), "round-trips/call")
	if hook != nil {
		b.ReportMetric(float64(hook.Load())/float64(calls), "hook-cmds/call")
	}
	b.Logf("%d calls, %d round trips; INFO commandstats, script internals included: %v", calls, proxy.Commands(), stats)
}

// counter is a go-redis hook counting commands.
type counter struct{ n *atomic.Int64 }

func (c counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// riprapFleet starts four fleet breakers, each on its own client. The
// returned settle waits until every opening has been published (or
// adopted) and every peer holds.
func riprapFleet(b *testing.B, proxy *redistest.Proxy, hook *atomic.Int64) ([]instance, func()) {
	var fleet []instance
	var fbs []*riprapredis.Breaker
	for i := range instances {
		client := proxy.Client(b)
		client.AddHook(counter{hook})
		fb, err := riprapredis.NewBreaker(riprapredis.BreakerConfig{
			Client: client, Instance: fmt.Sprintf("gw-%d", i),
			Breaker: breaker.Config{Name: "bank", ConsecutiveFailures: 5, OpenWait: time.Minute},
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = fb.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = fb.Start(ctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		fbs = append(fbs, fb)
		fleet = append(fleet, func(ctx context.Context, down bool) error {
			return resilience.Run(ctx, func(ctx context.Context) error { return bankCall(ctx, down) }, fb)
		})
	}
	settle := func() {
		deadline := time.Now().Add(10 * time.Second)
		for _, fb := range fbs {
			for !settled(fb) && time.Now().Before(deadline) {
				runtime.Gosched()
			}
		}
	}
	return fleet, settle
}

// settled reports whether fb has nothing left to publish: it is closed,
// held for the fleet, or open with its opening sent.
func settled(fb *riprapredis.Breaker) bool {
	s := fb.Snapshot()
	switch s.Local.State {
	case breaker.Open:
		return s.Published+s.Adopted+s.Reported > 0
	case breaker.HeldOpen, breaker.Closed:
		return true
	}
	return false
}

// gobreakerFleet builds four distributed breakers, each with its own store
// (its own client and lock), as four processes would have.
func gobreakerFleet(b *testing.B, proxy *redistest.Proxy) []instance {
	var fleet []instance
	for range instances {
		store := gobreaker.NewRedisStore(proxy.Addr)
		b.Cleanup(store.Close)
		cb, err := gobreaker.NewDistributedCircuitBreaker[any](store, gobreaker.Settings{
			Name: "bank", Timeout: time.Minute,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 },
		})
		if err != nil {
			b.Fatal(err)
		}
		fleet = append(fleet, func(ctx context.Context, down bool) error {
			_, err := cb.Execute(func() (any, error) { return nil, bankCall(ctx, down) })
			return err
		})
	}
	return fleet
}

// BenchmarkFleet is the scenario: four instances, each making a
// 200 ms call at once, through a healthy bank (one round per op) and a bank
// that is down (calls fail at once; the breakers open and refuse).
func BenchmarkFleet(b *testing.B) {
	for _, down := range []bool{false, true} {
		scenario := "healthy"
		if down {
			scenario = "bank_down"
		}
		b.Run(scenario+"/riprap", func(b *testing.B) {
			srv := redistest.Start(b)
			proxy := srv.Proxy(b)
			var hook atomic.Int64
			fleet, settle := riprapFleet(b, proxy, &hook)
			run(b, srv, proxy, fleet, down, &hook, settle)
		})
		b.Run(scenario+"/gobreaker", func(b *testing.B) {
			srv := redistest.Start(b)
			proxy := srv.Proxy(b)
			run(b, srv, proxy, gobreakerFleet(b, proxy), down, nil, nil)
		})
	}
}
