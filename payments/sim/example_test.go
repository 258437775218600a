package sim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
)

// A scheduled outage on a mock clock, seen through the typed client: the
// refusal carries a Retry-After that resilience.RetryAfter reads.
func ExampleInjector() {
	mock := clock.NewMock()
	fx := sim.NewFX(sim.FXConfig{Clock: mock})
	_ = fx.SetRate(payments.USD, payments.EUR, payments.MustParseRate("0.9215"))
	inj, _ := sim.NewInjector(sim.InjectorConfig{Clock: mock, Faults: sim.Faults{
		Windows: []sim.Window{{Kind: sim.Outage, Start: time.Minute, End: 3 * time.Minute}},
	}})
	h := sim.FXHandler(fx, inj)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client, _ := httpapi.NewFXClient(srv.URL, httpapi.ClientConfig{Clock: mock})

	for _, at := range []time.Duration{0, 2 * time.Minute, 3 * time.Minute} {
		mock.Set(inj.Epoch().Add(at))
		q, err := client.Quote(context.Background(), payments.USD, payments.EUR)
		wait, _ := resilience.RetryAfter(err)
		fmt.Println(at, q.Rate, errors.Is(err, httpapi.ErrOverloaded), wait)
	}
	// Output:
	// 0s 0.9215 false 0s
	// 2m0s 0/0 true 1m0s
	// 3m0s 0.9215 false 0s
}

// A log that fails 30% of appends fails single entries of a batch; sending
// the failed ones again stores them, each once.
func ExampleLog_AppendBatch() {
	log := sim.NewLog(sim.LogConfig{Seed: 3})
	_ = log.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(30)})
	var batch []payments.Entry
	for i := range 10 {
		batch = append(batch, payments.Entry{PaymentID: fmt.Sprintf("pay-%d", i), Amount: payments.MustParseMoney("1 USD")})
	}
	for round := 1; len(batch) > 0; round++ {
		results, _ := log.AppendBatch(context.Background(), batch)
		var again []payments.Entry
		for i, err := range results {
			if errors.Is(err, sim.ErrInjected) {
				again = append(again, batch[i])
			}
		}
		fmt.Printf("round %d: %d sent, %d to send again\n", round, len(batch), len(again))
		batch = again
	}
	st := log.Stats()
	fmt.Println(len(log.Entries()), st.Stored, st.Duplicates)
	// Output:
	// round 1: 10 sent, 4 to send again
	// round 2: 4 sent, 3 to send again
	// round 3: 3 sent, 0 to send again
	// 10 10 0
}

// One payment sent to the bank under two idempotency keys debits twice;
// the bank's records say so.
func ExampleBank_DoubleCharges() {
	bank := sim.NewBank(sim.BankConfig{})
	_ = bank.Open("acct_alice0001", payments.MustParseMoney("50.00 USD"))
	_ = bank.Open("acct_bob000002", payments.MustParseMoney("0 USD"))
	for _, key := range []string{"order-7", "order-7-retry"} {
		_, _ = bank.Transfer(context.Background(), payments.TransferRequest{IdempotencyKey: key, PaymentID: "order-7",
			From: "acct_alice0001", To: "acct_bob000002", Amount: payments.MustParseMoney("20.00 USD")})
	}
	for _, dc := range bank.DoubleCharges() {
		fmt.Println(dc.PaymentID, dc.Keys, dc.TransferIDs)
	}
	// Output:
	// order-7 [order-7 order-7-retry] [tr_00000001 tr_00000002]
}

// The three services in-process: no socket, reached through
// Services.Transport.
func ExampleStart_inProcess() {
	s, _ := sim.Start(sim.ServicesConfig{InProcess: true})
	defer s.Close()
	hc := &http.Client{Transport: s.Transport()}
	log, _ := httpapi.NewLogClient(s.LogURL, httpapi.ClientConfig{HTTPClient: hc})
	results, err := log.AppendBatch(context.Background(), []payments.Entry{
		{PaymentID: "pay-1", Amount: payments.MustParseMoney("1 USD")},
		{PaymentID: "", Amount: payments.MustParseMoney("1 USD")},
	})
	fmt.Println(s.LogURL, err)
	fmt.Println(results[0], errors.Is(results[1], payments.ErrInvalidRequest))
	// Output:
	// http://log.sim.invalid <nil>
	// <nil> true
}
