package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
)

func TestAcquirerConfigErrors(t *testing.T) {
	bank := sim.NewBank(sim.BankConfig{})
	for _, tc := range []struct {
		name string
		cfg  gateway.Config
		want map[string]string // field → rule
	}{
		{"Bank and Acquirers", gateway.Config{Bank: bank, BankPolicy: gateway.BankPolicy{Attempts: 2},
			Acquirers: []gateway.Acquirer{{Name: "a", Bank: bank}}},
			map[string]string{"Bank": "must be nil when Acquirers is set",
				"BankPolicy": "must be zero when Acquirers is set (each acquirer has its own Policy)"}},
		{"names", gateway.Config{Acquirers: []gateway.Acquirer{{Bank: bank}, {Name: "a b", Bank: bank},
			{Name: "fx", Bank: bank}, {Name: "x", Bank: bank}, {Name: "x", Bank: bank}, {Name: "x-status", Bank: bank}}},
			map[string]string{"Acquirers[0].Name": "must not be empty",
				"Acquirers[1].Name": "must be at most 64 letters, digits, '-', '_' or '.'",
				"Acquirers[2].Name": `must not be "fx" or "log" (the names of the gateway's other breakers)`,
				"Acquirers[4].Name": "must be unique",
				"Acquirers[5].Name": `must not be another acquirer's name followed by "-status" (the name of its status breaker)`}},
		{"bank, weight and policy", gateway.Config{Acquirers: []gateway.Acquirer{{Name: "a", Weight: -1},
			{Name: "b", Bank: bank, Weight: 10001, Policy: gateway.BankPolicy{MaxConcurrent: -1, Timeout: -1}}}},
			map[string]string{"Acquirers[0].Bank": "is required", "Acquirers[0].Weight": "must be in [0, 10000]",
				"Acquirers[1].Weight": "must be in [0, 10000]", "Acquirers[1].Policy.MaxConcurrent": "must not be negative",
				"Acquirers[1].Policy.Timeout": "must not be negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.FX, tc.cfg.Log = sim.NewFX(sim.FXConfig{}), sim.NewLog(sim.LogConfig{})
			_, err := gateway.New(tc.cfg)
			require.Error(t, err)
			got := map[string]string{}
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ce *resilience.ConfigError
				require.ErrorAs(t, e, &ce)
				got[ce.Field] = ce.Rule
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// Each acquirer's status marshals to readable JSON.
func TestStatusShowsEachAcquirer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, _ := newBanksWorld(t, twoBanks, func(c *gateway.Config) { c.Acquirers[1].Weight = 2 })
		defer w.gw.Close()
		w.bank.set(refuse)
		r := w.gw.Pay(context.Background(), pay("order-1", "1.00 USD"))
		require.Equal(t, "secondary", r.Bank, r.Reason)

		st := w.gw.Status(context.Background())
		require.Len(t, st.Acquirers, 2)
		var got []map[string]any
		data, err := json.Marshal(st.Acquirers)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &got))
		for _, a := range got {
			assert.NotEmpty(t, a["limit"])
			delete(a, "limit") // the limiter's own snapshot, tested in its package
		}
		data, err = json.Marshal(got)
		require.NoError(t, err)
		assert.JSONEq(t, `[
	  {"name":"primary","available":true,"breaker":"closed","status_breaker":"closed",
	   "counts":{"routed":1,"sent":1,"refused":1,"took_over":0,"succeeded":0,"declined":0,"pending":0,"reconciled":0}},
	  {"name":"secondary","weight":2,"available":true,"breaker":"closed","status_breaker":"closed",
	   "counts":{"routed":0,"sent":1,"refused":0,"took_over":1,"succeeded":1,"declined":0,"pending":0,"reconciled":0}}
	]`, string(data))
	})
}
