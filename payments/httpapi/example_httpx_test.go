package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
)

// A bank client used on its own, with no pipeline of the caller's around
// it, over an httpx.Transport: transfers carry an Idempotency-Key header,
// so the transport retries them through a 503; when the bank fails for
// good, the transport's breaker opens and refuses the next transfer with
// a rejection, which Outcome ignores and NotProcessed does not call "safe
// to retry" (an earlier attempt of a retried request may have reached the
// bank). Under the gateway, whose pipelines retry and break per
// dependency, the clients run on a plain transport instead.
func ExampleBankClient_withTransport() {
	bank := sim.NewBank(sim.BankConfig{})
	_ = bank.Open("acct_alice0001", payments.MustParseMoney("50.00 USD"))
	_ = bank.Open("acct_bob000002", payments.MustParseMoney("0 USD"))
	var seen, busy, down atomic.Int32
	busy.Store(2)
	h := sim.BankHandler(bank, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		switch {
		case down.Load() == 1:
			http.Error(w, "down", http.StatusInternalServerError)
		case busy.Add(-1) >= 0:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		default:
			h.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()

	tr, _ := httpx.NewTransport(httpx.TransportConfig{
		Backoff: backoff.Constant(0),
		Breaker: breaker.Config{ConsecutiveFailures: 3},
	})
	client, _ := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{HTTPClient: &http.Client{Transport: tr}})
	ctx := context.Background()
	req := payments.TransferRequest{IdempotencyKey: "order-42", From: "acct_alice0001", To: "acct_bob000002",
		Amount: payments.MustParseMoney("20.00 USD")}

	r, err := client.Transfer(ctx, req)
	fmt.Println(r.TransferID, err, "after", seen.Swap(0), "requests")

	down.Store(1)
	req.IdempotencyKey = "order-43"
	_, err = client.Transfer(ctx, req)
	fmt.Println(errors.Is(err, httpapi.ErrServerFailure), "after", seen.Swap(0), "requests")
	_, err = client.Transfer(ctx, req)
	fmt.Println(errors.Is(err, httpapi.ErrTransport), resilience.IsRejected(err), errors.Is(err, breaker.ErrOpen),
		seen.Load(), "requests")
	fmt.Println(httpapi.Outcome(ctx, err), httpapi.NotProcessed(err))
	// Output:
	// tr_00000001 <nil> after 3 requests
	// true after 3 requests
	// true true true 0 requests
	// ignored false
}
