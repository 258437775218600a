package gateway_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// claimConfig is a valid config but for what tweak sets.
func claimConfig(tweak func(*gateway.Config)) gateway.Config {
	c := gateway.Config{Bank: sim.NewBank(sim.BankConfig{}), FX: sim.NewFX(sim.FXConfig{}), Log: sim.NewLog(sim.LogConfig{}),
		Health: gateway.HealthPolicy{Disabled: true}, Logger: slog.New(slog.DiscardHandler)}
	tweak(&c)
	return c
}

// New refuses a ClaimTTL shorter than the work done under one claim —
// found by deterministic simulation: a 1s claim over a bank answering in
// 1.2s within a 2s timeout cut every transfer and lookup, and the bank's
// breakers opened on a working bank.
func TestClaimTTLMustCoverTheWorkUnderOneClaim(t *testing.T) {
	bounded, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond})
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		tweak  func(*gateway.Config)
		refuse bool
		floor  string // in the rule
		names  []string
	}{
		{name: "defaults", tweak: func(*gateway.Config) {}},
		{name: "the simulation's finding", refuse: true, floor: "= 12.5s",
			tweak: func(c *gateway.Config) { c.ClaimTTL = time.Second },
			names: []string{"BankPolicy.Timeout", "BankPolicy.Attempts", "BankPolicy.MaxRetryAfter", "BankPolicy.Backoff"}},
		// A reconciler check: a 2s lookup, then 3 × (2s + 1s + 500ms).
		{name: "just below the check's floor", refuse: true, floor: "= 12.5s",
			tweak: func(c *gateway.Config) { c.ClaimTTL = 12500*time.Millisecond - 1 }},
		{name: "exactly the floor", tweak: func(c *gateway.Config) { c.ClaimTTL = 12500 * time.Millisecond }},
		// A payment: 1s of FX, then 100ms + 1 × (300ms + 200ms + 400ms).
		{name: "a payment's floor", refuse: true, floor: "FXPolicy.Timeout (5s)",
			tweak: func(c *gateway.Config) {
				c.ClaimTTL, c.FXPolicy.Timeout = 5900*time.Millisecond, 5*time.Second
				c.BankPolicy = gateway.BankPolicy{Attempts: 1, Timeout: 300 * time.Millisecond, MaxWait: 100 * time.Millisecond,
					MaxRetryAfter: 400 * time.Millisecond, Backoff: bounded}
			}},
		{name: "a payment's floor met", tweak: func(c *gateway.Config) {
			c.ClaimTTL, c.FXPolicy.Timeout = 6*time.Second, 5*time.Second
			c.BankPolicy = gateway.BankPolicy{Attempts: 1, Timeout: 300 * time.Millisecond, MaxWait: 100 * time.Millisecond,
				MaxRetryAfter: 400 * time.Millisecond, Backoff: bounded}
		}},
		// Several acquirers: a payment fails over under one claim, so
		// their terms add up: 1s + 2 × 10.5s.
		{name: "two acquirers add up", refuse: true, floor: "= 22s",
			tweak: func(c *gateway.Config) {
				c.ClaimTTL = 21 * time.Second
				c.Bank = nil
				c.Acquirers = []gateway.Acquirer{{Name: "a", Bank: sim.NewBank(sim.BankConfig{})}, {Name: "b", Bank: sim.NewBank(sim.BankConfig{})}}
			}, names: []string{"Acquirers[0].Policy.Timeout", "Acquirers[1].Policy.Timeout"}},
		{name: "a log append", refuse: true, floor: "LogPolicy.Timeout (1m0s)",
			tweak: func(c *gateway.Config) { c.ClaimTTL, c.LogPolicy.Timeout = 30*time.Second, time.Minute }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw, err := gateway.New(claimConfig(tc.tweak))
			if !tc.refuse {
				require.NoError(t, err)
				gw.Close()
				return
			}
			require.Error(t, err)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "ClaimTTL", ce.Field)
			assert.Contains(t, ce.Rule, tc.floor)
			for _, n := range tc.names {
				assert.Contains(t, ce.Rule, n)
			}
		})
	}
}

// A gateway without ClaimTTL takes one that covers its floor, however long
// its policies make it.
func TestDefaultClaimTTLCoversTheFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 1s + 3 × (30s + 1s + 500ms) = 95.5s; the default is twice the
		// longer check (30s + 94.5s).
		w := newWorld(t, func(c *gateway.Config) { c.BankPolicy.Timeout = 30 * time.Second })
		defer w.gw.Close()
		w.bank.set(hang)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.gw.Pay(ctx, pay("order-long", "5.00 USD")); close(done) }()
		synctest.Wait()
		rec, err := w.mem.Lookup(context.Background(), "order-long")
		require.NoError(t, err)
		assert.Equal(t, 2*(30*time.Second+94500*time.Millisecond), time.Until(rec.Claim.Expires))
		cancel()
		<-done
	})
}

// Config.Rand seeds the jitter of the default backoff: the same seed
// gives the same waits between attempts, another seed other waits.
func TestRandSeedsTheDefaultBackoff(t *testing.T) {
	waits := func(seed uint64) []time.Duration {
		var (
			mu  sync.Mutex
			out []time.Duration
		)
		synctest.Test(t, func(t *testing.T) {
			w := newWorld(t, func(c *gateway.Config) {
				c.Rand = rand.NewPCG(seed, 1)
				c.BankPolicy.Attempts = 8
				c.BankPolicy.Breaker.ConsecutiveFailures = 1000
				c.Listeners = resilience.Listeners{resilience.OnKinds(func(e resilience.Event) {
					mu.Lock()
					out = append(out, e.Delay)
					mu.Unlock()
				}, resilience.EventRetry)}
			})
			defer w.gw.Close()
			w.bank.set(refuse)
			for i := range 3 {
				r := w.gw.Pay(context.Background(), pay("order-"+string(rune('a'+i)), "5.00 USD"))
				require.Equal(t, gateway.Rejected, r.State, r.Reason)
				require.True(t, errors.Is(r.Err, errRefused))
			}
		})
		return out
	}
	a, b := waits(7), waits(7)
	require.Len(t, a, 3*7, "seven retries of each of three payments")
	for i := 0; i < len(a); i += 7 {
		assert.LessOrEqual(t, a[i], 10*time.Millisecond, "a first retry (a lost reply) waits at most 10ms")
	}
	assert.Equal(t, a, b, "the same seed draws the same waits")
	assert.NotEqual(t, a, waits(8), "another seed draws other waits")
}

// MinClaimTTL tells the floor New checks, so that a configuration drawn at
// random can respect it: New accepts it and refuses a nanosecond less.
func TestMinClaimTTLIsWhatNewChecks(t *testing.T) {
	for _, timeout := range []time.Duration{100 * time.Millisecond, 2 * time.Second, 45 * time.Second} {
		cfg := claimConfig(func(c *gateway.Config) { c.BankPolicy.Timeout, c.Rand = timeout, rand.NewPCG(1, 2) })
		floor, err := cfg.MinClaimTTL()
		require.NoError(t, err)
		cfg.ClaimTTL = floor
		gw, err := gateway.New(cfg)
		require.NoError(t, err, "timeout %s", timeout)
		gw.Close()
		cfg.ClaimTTL = floor - 1
		_, err = gateway.New(cfg)
		require.Error(t, err, "timeout %s", timeout)
	}
	_, err := gateway.Config{}.MinClaimTTL()
	assert.Error(t, err, "a config New refuses has no floor")
}
