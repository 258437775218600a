package gateway_test

import (
	"context"
	"fmt"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// A payment end to end, over in-process simulated services.
func ExampleGateway_Pay() {
	bank, fx, log := sim.NewBank(sim.BankConfig{}), sim.NewFX(sim.FXConfig{}), sim.NewLog()
	_ = bank.Open("acct_alice001", payments.MustParseMoney("100.00 USD"))
	_ = bank.Open("acct_bob00001", payments.MustParseMoney("0.00 USD"))
	_ = fx.SetRate(payments.EUR, payments.USD, payments.MustParseRate("1.0842"))

	gw, err := gateway.New(gateway.Config{Bank: bank, FX: fx, Log: log})
	if err != nil {
		panic(err)
	}
	defer gw.Close()

	req := payments.PaymentRequest{IdempotencyKey: "order-1001", Payer: "acct_alice001", Payee: "acct_bob00001",
		Amount: payments.MustParseMoney("20.00 EUR"), TargetCurrency: payments.USD}
	r := gw.Pay(context.Background(), req)
	fmt.Println(r.State, r.Settled, "-", r.Reason)

	again := gw.Pay(context.Background(), req) // the client retries: nothing moves twice
	fmt.Println(again.State, again.Replayed, bank.Stats().DebitsApplied)

	req.IdempotencyKey, req.Amount = "order-1002", payments.MustParseMoney("500.00 EUR")
	r = gw.Pay(context.Background(), req)
	fmt.Println(r.State, "-", r.Reason)
	// Output:
	// succeeded 21.68 USD - the bank moved the money
	// succeeded true 1
	// declined - declined by the bank: insufficient_funds
}

// A gateway with custom policies: a tighter bank timeout and fewer attempts,
// a rate limit, and health checks turned off.
func ExampleConfig() {
	bank, fx, log := sim.NewBank(sim.BankConfig{}), sim.NewFX(sim.FXConfig{}), sim.NewLog()
	gw, err := gateway.New(gateway.Config{Bank: bank, FX: fx, Log: log,
		BankPolicy: gateway.BankPolicy{Timeout: 500e6, Attempts: 2},
		Health:     gateway.HealthPolicy{Disabled: true},
	})
	if err != nil {
		panic(err)
	}
	defer gw.Close()
	for _, s := range gw.Status().Breakers {
		fmt.Println(s.Name, s.State)
	}
	_, err = gateway.New(gateway.Config{Bank: bank})
	fmt.Println(err)
	// Output:
	// bank closed
	// fx closed
	// log closed
	// gateway: FX is required
	// gateway: Log is required
}
