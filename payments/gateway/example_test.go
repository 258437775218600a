package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// A payment end to end, over in-process simulated services.
func ExampleGateway_Pay() {
	bank, fx, log := sim.NewBank(sim.BankConfig{}), sim.NewFX(sim.FXConfig{}), sim.NewLog(sim.LogConfig{})
	_ = bank.Open("acct_alice001", payments.MustParseMoney("100.00 USD"))
	_ = bank.Open("acct_bob00001", payments.MustParseMoney("0.00 USD"))
	_ = fx.SetRate(payments.EUR, payments.USD, payments.MustParseRate("1.0842"))

	gw, err := gateway.New(gateway.Config{Bank: bank, FX: fx, Log: log}) // an in-memory store: not durable
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

	_ = gw.Drain(context.Background())
	fmt.Println(len(log.Entries()), "entry logged")
	// Output:
	// succeeded 21.68 USD - the bank moved the money
	// succeeded true 1
	// declined - declined by the bank: insufficient_funds
	// 1 entry logged
}

// A bad configuration is refused with one *resilience.ConfigError per
// field.
func ExampleNew_configErrors() {
	_, err := gateway.New(gateway.Config{Bank: sim.NewBank(sim.BankConfig{}), ClaimTTL: -1})
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *resilience.ConfigError
		if errors.As(e, &ce) {
			fmt.Println(ce.Field, ce.Rule)
		}
	}
	// Output:
	// FX is required
	// Log is required
	// ClaimTTL must not be negative
}

// A gateway started on the store of one that stopped resumes its work:
// the log entry the first could not deliver is replayed, and a retry of its
// payment is answered from the store.
func ExampleNew_restart() {
	bank, fx, log := sim.NewBank(sim.BankConfig{}), sim.NewFX(sim.FXConfig{}), sim.NewLog(sim.LogConfig{})
	_ = bank.Open("acct_alice001", payments.MustParseMoney("100.00 USD"))
	_ = bank.Open("acct_bob00001", payments.MustParseMoney("0.00 USD"))
	db, _ := store.NewMemory(store.Config{}) // stands in for a durable store
	cfg := gateway.Config{Bank: bank, FX: fx, Log: log, Store: db, Instance: "gw-1"}

	_ = log.SetFaults(sim.LogFaults{ErrorRate: sim.Always}) // the log refuses every append
	first, _ := gateway.New(cfg)
	req := payments.PaymentRequest{IdempotencyKey: "order-1", Payer: "acct_alice001", Payee: "acct_bob00001",
		Amount: payments.MustParseMoney("5.00 USD")}
	fmt.Println(first.Pay(context.Background(), req).State)
	first.Close()

	_ = log.SetFaults(sim.LogFaults{})
	second, _ := gateway.New(cfg)
	defer second.Close()
	fmt.Printf("%+v\n", second.Recovery())
	_ = second.Drain(context.Background())
	r := second.Pay(context.Background(), req)
	fmt.Println(r.State, r.Replayed, bank.Stats().DebitsApplied, len(log.Entries()))
	// Output:
	// succeeded
	// {Instance:gw-1 ExpiredClaims:0 Pending:0 Queued:1 Problems:[]}
	// succeeded true 1 1
}

// The gateway served over HTTP, and paid through its client. Here the
// client reaches the handler in-process; across processes, serve
// gw.Handler() with net/http and give NewClient the server's URL.
func ExampleGateway_Handler() {
	bank, fx, log := sim.NewBank(sim.BankConfig{}), sim.NewFX(sim.FXConfig{}), sim.NewLog(sim.LogConfig{})
	_ = bank.Open("acct_alice001", payments.MustParseMoney("100.00 USD"))
	_ = bank.Open("acct_bob00001", payments.MustParseMoney("0.00 USD"))
	gw, _ := gateway.New(gateway.Config{Bank: bank, FX: fx, Log: log})
	defer gw.Close()

	client, _ := gateway.NewClient("http://gateway.invalid", &http.Client{Transport: httpapi.HandlerTransport(gw.Handler())})
	req := payments.PaymentRequest{IdempotencyKey: "order-7", Payer: "acct_alice001", Payee: "acct_bob00001",
		Amount: payments.MustParseMoney("7.00 USD")}
	r, err := client.Pay(context.Background(), req)
	fmt.Println(r.State, r.Settled, err)
	r, err = client.Lookup(context.Background(), "order-7")
	fmt.Println(r.State, r.TransferID != "", err)
	_, err = client.Lookup(context.Background(), "order-8")
	fmt.Println(errors.Is(err, gateway.ErrUnknownPayment))
	// Output:
	// succeeded 7.00 USD <nil>
	// succeeded true <nil>
	// true
}

// Two banks in priority order. A payment goes to the first bank whose
// guards admit it; a bank whose breaker is open is tried last, and a
// payment no bank would take is rejected, safe to retry, with every
// refusal.
func ExampleConfig_acquirers() {
	primary, secondary := sim.NewBank(sim.BankConfig{}), sim.NewBank(sim.BankConfig{})
	for _, b := range []*sim.Bank{primary, secondary} {
		_ = b.Open("acct_alice001", payments.MustParseMoney("100.00 USD"))
		_ = b.Open("acct_bob00001", payments.MustParseMoney("0.00 USD"))
	}
	gw, err := gateway.New(gateway.Config{
		Acquirers: []gateway.Acquirer{{Name: "primary", Bank: primary}, {Name: "secondary", Bank: secondary}},
		FX:        sim.NewFX(sim.FXConfig{}), Log: sim.NewLog(sim.LogConfig{})})
	if err != nil {
		panic(err)
	}
	defer gw.Close()
	order := func(key string) payments.PaymentRequest {
		return payments.PaymentRequest{IdempotencyKey: key, Payer: "acct_alice001", Payee: "acct_bob00001",
			Amount: payments.MustParseMoney("5.00 USD")}
	}
	show := func(r gateway.Result) {
		fmt.Printf("%s %s %q refused_by=%v\n", r.PaymentID, r.State, r.Bank, r.RefusedBy)
	}

	show(gw.Pay(context.Background(), order("order-1")))
	p, _ := gw.Registry().Get("primary")
	p.ForceOpen() // the primary is down
	show(gw.Pay(context.Background(), order("order-2")))
	s, _ := gw.Registry().Get("secondary")
	s.ForceOpen() // and now the secondary too
	show(gw.Pay(context.Background(), order("order-3")))
	p.Reset()
	show(gw.Pay(context.Background(), order("order-3"))) // retried: no bank had processed it
	for _, a := range gw.Status(context.Background()).Acquirers {
		fmt.Printf("%s: sent %d, refused %d, breaker %s\n", a.Name, a.Counts.Sent, a.Counts.Refused, a.Breaker)
	}
	// Output:
	// order-1 succeeded "primary" refused_by=[]
	// order-2 succeeded "secondary" refused_by=[]
	// order-3 rejected "" refused_by=[primary secondary]
	// order-3 succeeded "primary" refused_by=[]
	// primary: sent 2, refused 1, breaker closed
	// secondary: sent 1, refused 1, breaker forced_open
}

// lossyBank commits every transfer, then loses the reply.
type lossyBank struct{ *sim.Bank }

func (b lossyBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	_, _ = b.Bank.Transfer(ctx, req)
	return payments.Receipt{}, errors.New("connection reset after sending")
}

// A payment whose outcome at the primary is unknown is never sent to the
// secondary: it stays pending at the primary, which the reconciler asks.
func ExampleConfig_acquirersUnknownOutcome() {
	primary, secondary := sim.NewBank(sim.BankConfig{}), sim.NewBank(sim.BankConfig{})
	for _, b := range []*sim.Bank{primary, secondary} {
		_ = b.Open("acct_alice001", payments.MustParseMoney("100.00 USD"))
		_ = b.Open("acct_bob00001", payments.MustParseMoney("0.00 USD"))
	}
	gw, err := gateway.New(gateway.Config{
		Acquirers: []gateway.Acquirer{
			{Name: "primary", Bank: lossyBank{primary}, Policy: gateway.BankPolicy{Attempts: 1}},
			{Name: "secondary", Bank: secondary}},
		FX: sim.NewFX(sim.FXConfig{}), Log: sim.NewLog(sim.LogConfig{}), ReconcileInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer gw.Close()
	req := payments.PaymentRequest{IdempotencyKey: "order-1", Payer: "acct_alice001", Payee: "acct_bob00001",
		Amount: payments.MustParseMoney("5.00 USD")}
	r := gw.Pay(context.Background(), req)
	fmt.Println(r.State, r.Bank, "- secondary transfers:", secondary.Stats().TransferCalls)

	_ = gw.Drain(context.Background())
	r, _ = gw.Lookup(context.Background(), "order-1")
	fmt.Println(r.State, r.Bank, "-", r.Reason)
	fmt.Println("debits:", primary.Stats().DebitsApplied, secondary.Stats().DebitsApplied)
	// Output:
	// pending_reconciliation primary - secondary transfers: 0
	// succeeded primary - resolved by reconciliation: the bank had moved the money
	// debits: 1 0
}

// A claim must outlast the work done under it: New refuses a ClaimTTL its
// policies cannot finish within, and MinClaimTTL says the least it takes.
func ExampleConfig_MinClaimTTL() {
	cfg := gateway.Config{Bank: sim.NewBank(sim.BankConfig{}), FX: sim.NewFX(sim.FXConfig{}), Log: sim.NewLog(sim.LogConfig{}),
		BankPolicy: gateway.BankPolicy{Timeout: time.Second, Attempts: 2}}
	floor, _ := cfg.MinClaimTTL()
	fmt.Println(floor) // a lookup (1s), then 2 × (1s + 1s of backoff + 500ms of Retry-After)

	cfg.ClaimTTL = time.Second
	_, err := gateway.New(cfg)
	var ce *resilience.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)
	// Output:
	// 6s
	// true ClaimTTL
}
