package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/chaos"
)

// Rehearse a bank outage against the gateway's own pipelines: a chaos
// injector ships switched off inside every attempt (BankPolicy.Inject),
// and the rehearsal switches it on. The real retry, breaker and timeout
// react as they would to a real outage — the first payments are refused
// by the "bank" (injected 503s never reach it, so nothing is debited and
// they are rejected, safe to retry), then the breaker opens and refuses
// at once — and once the outage is switched off, the breaker's probe
// closes it again.
func Example_rehearseABankOutage() {
	outage, err := chaos.Fault(httpapi.ErrOverloaded, chaos.Config{Name: "bank outage"})
	if err != nil {
		panic(err)
	}
	bank := sim.NewBank(sim.BankConfig{})
	_ = bank.Open("acct_alice001", payments.MustParseMoney("100.00 USD"))
	_ = bank.Open("acct_bob00001", payments.MustParseMoney("0.00 USD"))
	clk := clock.NewMock() // the breaker's open wait passes when the rehearsal says so
	gw, err := gateway.New(gateway.Config{Bank: bank, FX: sim.NewFX(sim.FXConfig{}), Log: sim.NewLog(sim.LogConfig{}),
		Clock: clk, Health: gateway.HealthPolicy{Disabled: true}, Logger: slog.New(slog.DiscardHandler),
		BankPolicy: gateway.BankPolicy{Attempts: 1, Inject: []resilience.Guard{outage},
			Breaker: breaker.Config{ConsecutiveFailures: 2, OpenWait: 5 * time.Second}}})
	if err != nil {
		panic(err)
	}
	defer gw.Close()
	payment := func(n int) {
		r := gw.Pay(context.Background(), payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("order-%d", n),
			Payer: "acct_alice001", Payee: "acct_bob00001", Amount: payments.MustParseMoney("1.00 USD")})
		fmt.Printf("order-%d: %s - %s\n", n, r.State, r.Reason)
	}

	payment(1)
	outage.Enable()
	for n := 2; n <= 4; n++ {
		payment(n)
	}
	outage.Disable()
	clk.Add(5 * time.Second)
	payment(5)
	fmt.Println("debits:", bank.Stats().DebitsApplied, "injected:", outage.Snapshot().Injected)
	// Output:
	// order-1: succeeded - the bank moved the money
	// order-2: rejected - not attempted: backoff: 1 attempt, attempts exhausted: chaos: injected fault "bank outage": httpapi: server overloaded
	// order-3: rejected - not attempted: backoff: 1 attempt, attempts exhausted: chaos: injected fault "bank outage": httpapi: server overloaded
	// order-4: rejected - not attempted: breaker: circuit open (name "bank", retry after 5s)
	// order-5: succeeded - the bank moved the money
	// debits: 2 injected: 2
}

// A nil guard among injected ones is refused by New, by its field.
func TestNilInjectedGuardIsRefused(t *testing.T) {
	_, err := gateway.New(claimConfig(func(c *gateway.Config) {
		c.BankPolicy.Inject = []resilience.Guard{nil}
		c.FXPolicy.Inject = []resilience.Guard{nil}
		c.LogPolicy.Inject = []resilience.Guard{nil}
	}))
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *resilience.ConfigError
		require.ErrorAs(t, e, &ce)
		fields = append(fields, ce.Field)
	}
	assert.ElementsMatch(t, []string{"BankPolicy.Inject[0]", "FXPolicy.Inject[0]", "LogPolicy.Inject[0]"}, fields)
}
