package dst

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

func TestValidateNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		break_      func(*World)
	}{
		{"no duration", "world.duration", func(w *World) { w.Duration = 0 }},
		{"a duration of days", "world.duration", func(w *World) { w.Duration = Duration(48 * time.Hour) }},
		{"an unknown shape", "world.load.shape", func(w *World) { w.Load.Shape = "sawtooth" }},
		{"no rate", "world.load.rate", func(w *World) { w.Load.Rate = 0 }},
		{"bursts without a period", "world.load", func(w *World) { w.Load.Shape, w.Load.Peak = Bursts, 10 }},
		{"too many payments", "world.load", func(w *World) { w.Load.Rate, w.Duration = 1000, Duration(time.Hour) }},
		{"a share over 100", "world.load.cross_pct", func(w *World) { w.Load.Cross = 101 }},
		{"negative retries", "world.client.retries", func(w *World) { w.Client.Retries = -1 }},
		{"a rate over 100%", "world.bank.error_bp", func(w *World) { w.Bank.ErrorBP = 10001 }},
		{"append errors at the bank", "world.bank", func(w *World) { w.Bank.AppendErrorBP = 1 }},
		{"a window past the end", "world.fx.windows[0]", func(w *World) {
			w.FX.Windows = []Window{{Kind: Outage, Start: ms(1000), End: ms(60000)}}
		}},
		{"a slowdown without extra", "world.fx.windows[0].extra", func(w *World) {
			w.FX.Windows = []Window{{Kind: Slowdown, Start: 0, End: ms(1000)}}
		}},
		{"a flap without a period", "world.log.windows[0].period", func(w *World) {
			w.Log.Windows = []Window{{Kind: Flap, Start: 0, End: ms(1000)}}
		}},
		{"an unknown kind", "world.log.windows[0].kind", func(w *World) {
			w.Log.Windows = []Window{{Kind: "meteor", Start: 0, End: ms(1000)}}
		}},
		{"a crash after the end", "world.crashes[0].at", func(w *World) { w.Crashes = []Crash{{At: ms(30000)}} }},
		{"a negative timeout", "world.gateway.bank_timeout", func(w *World) { w.Gateway.BankTimeout = -1 }},
		{"weights with one bank", "world.gateway.bank_weights", func(w *World) { w.Gateway.BankWeights = []int{1, 1} }},
		{"a weight of zero", "world.gateway.bank_weights[1]", func(w *World) {
			w.Bank2, w.Gateway.BankWeights = &Faults{}, []int{1, 0}
		}},
		{"a batch past the log's maximum", "world.gateway.log_batch_size", func(w *World) { w.Gateway.LogBatchSize = 501 }},
		{"a failure rate over 1", "world.gateway.fx_breaker.failure_rate", func(w *World) { w.Gateway.FXBreaker.FailureRate = 1.5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := plainWorld(1)
			tc.break_(&w)
			err := w.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "dst: "+tc.field+":")
		})
	}
	assert.NoError(t, plainWorld(1).Validate())
	assert.NoError(t, richWorld().Validate())
}

// TestGeneratorDrawsRunnableWorlds: every world drawn is valid, stays
// within its size, and reads back from its JSON unchanged.
func TestGeneratorDrawsRunnableWorlds(t *testing.T) {
	size := Size{MaxDuration: time.Minute, MaxPayments: 200}
	rapid.Check(t, func(t *rapid.T) {
		w := Generator(size).Draw(t, "world")
		require.NoError(t, w.Validate())
		assert.LessOrEqual(t, w.Duration.D(), size.MaxDuration)
		assert.LessOrEqual(t, len(w.traffic()), size.MaxPayments)
		back, err := ReadWorld([]byte(w.JSON()))
		require.NoError(t, err)
		assert.Equal(t, w.JSON(), back.JSON())
	})
}

// TestGeneratorDrawsTheDefaults: the zero configuration is what rapid
// shrinks towards, and a plain world with it runs clean.
func TestGeneratorDrawsTheDefaults(t *testing.T) {
	w := Generator(Size{}).Example(0)
	w.Gateway = Config{}
	require.NoError(t, w.Validate())
	s := w.Gateway.settle()
	assert.Equal(t, 2*time.Second, s.bankTimeout, "the gateway's documented defaults")
	assert.Equal(t, 10000, s.maxOutbox)
	assert.Empty(t, Check(Run(t, plainWorld(11))))
}

// The generator's ClaimTTL floor is the gateway's: for drawn
// configurations of one and two banks, with the gateway's default
// backoff seeded as dst seeds it, it equals gateway.Config.MinClaimTTL, which New checks.
func TestClaimFloorIsTheGateways(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		banks := rapid.IntRange(1, 2).Draw(t, "banks")
		c := drawConfig(t, banks)
		g := c.gatewayConfig()
		g.Bank, g.FX, g.Log = sim.NewBank(sim.BankConfig{}), sim.NewFX(sim.FXConfig{}), sim.NewLog(sim.LogConfig{})
		g.Rand = newPCG(1, streamGateway)
		if banks == 2 {
			g.Acquirers = []gateway.Acquirer{{Name: "bank", Bank: g.Bank, Policy: g.BankPolicy},
				{Name: "bank2", Bank: sim.NewBank(sim.BankConfig{}), Policy: g.BankPolicy}}
			g.Bank, g.BankPolicy = nil, gateway.BankPolicy{}
		}
		want, err := g.MinClaimTTL()
		if err != nil {
			t.Fatalf("MinClaimTTL: %v", err)
		}
		if got := c.claimFloor(banks); got != want {
			t.Fatalf("claimFloor(%d banks) = %s, gateway.Config.MinClaimTTL = %s", banks, got, want)
		}
	})
}
