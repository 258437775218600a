package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

// A bank client against the simulated bank on loopback: a transfer, its
// replay under the same key, a refused reuse of the key, and a decline.
func ExampleBankClient() {
	bank := sim.NewBank(sim.BankConfig{})
	_ = bank.Open("acct_alice0001", payments.MustParseMoney("50.00 USD"))
	_ = bank.Open("acct_bob000002", payments.MustParseMoney("0 USD"))
	h := sim.BankHandler(bank, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()

	client, _ := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{})
	ctx := context.Background()
	req := payments.TransferRequest{IdempotencyKey: "order-42", From: "acct_alice0001", To: "acct_bob000002",
		Amount: payments.MustParseMoney("20.00 USD")}

	r, err := client.Transfer(ctx, req)
	fmt.Println(r.TransferID, r.Replayed, err)
	r, err = client.Transfer(ctx, req)
	fmt.Println(r.TransferID, r.Replayed, err)

	req.Amount = payments.MustParseMoney("25.00 USD")
	_, err = client.Transfer(ctx, req)
	fmt.Println(errors.Is(err, payments.ErrIdempotencyConflict), payments.IsPermanent(err))

	req.IdempotencyKey = "order-43"
	req.Amount = payments.MustParseMoney("40.00 USD")
	_, err = client.Transfer(ctx, req)
	var decline *payments.DeclineError
	fmt.Println(errors.As(err, &decline), decline.Reason)

	balance, _ := bank.Balance("acct_alice0001")
	fmt.Println(balance, bank.Stats().DebitsApplied)
	// Output:
	// tr_00000001 false <nil>
	// tr_00000001 true <nil>
	// true true
	// true insufficient_funds
	// 30.00 USD 1
}

// One batch, one request: each entry gets the answer Append would have
// given it alone.
func ExampleLogClient_AppendBatch() {
	log := sim.NewLog(sim.LogConfig{})
	h := sim.LogHandler(log, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client, _ := httpapi.NewLogClient(srv.URL, httpapi.ClientConfig{})
	ctx := context.Background()

	e := payments.Entry{PaymentID: "pay-1", TransferID: "tr_1", Amount: payments.MustParseMoney("10.00 USD")}
	_ = client.Append(ctx, e)
	changed := e
	changed.Amount = payments.MustParseMoney("11.00 USD")
	results, err := client.AppendBatch(ctx, []payments.Entry{
		e,       // already stored: a success
		changed, // another entry under the same payment ID
		{PaymentID: "pay-2", TransferID: "tr_2", Amount: payments.MustParseMoney("5.00 USD")},
	})
	fmt.Println(err)
	fmt.Println(results[0], errors.Is(results[1], payments.ErrIdempotencyConflict), results[2])
	fmt.Println(len(log.Entries()))
	// Output:
	// <nil>
	// <nil> true <nil>
	// 2
}

// A handler served in-process, with no socket: what a deterministic
// simulation runs its clients on.
func ExampleHandlerTransport() {
	bank := sim.NewBank(sim.BankConfig{})
	_ = bank.Open("acct_alice0001", payments.MustParseMoney("50.00 USD"))
	_ = bank.Open("acct_bob000002", payments.MustParseMoney("0 USD"))
	h := sim.BankHandler(bank, nil)
	hc := &http.Client{Transport: httpapi.HandlerTransport(h)}
	client, _ := httpapi.NewBankClient("http://bank.invalid", httpapi.ClientConfig{HTTPClient: hc})

	r, err := client.Transfer(context.Background(), payments.TransferRequest{IdempotencyKey: "order-1",
		From: "acct_alice0001", To: "acct_bob000002", Amount: payments.MustParseMoney("20.00 USD")})
	fmt.Println(r.TransferID, err)
	// Output:
	// tr_00000001 <nil>
}
