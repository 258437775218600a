package store_test

import (
	"context"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// One payment through the ledger, as the gateway records it: claimed,
// handed to the bank, finished with its log entry in the same write; then
// answered from the ledger when the client retries, and its entry drained
// from the outbox.
func Example() {
	ctx := context.Background()
	s, err := store.NewMemory(store.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lease := store.Lease{Owner: "gw-1", Now: now, TTL: time.Minute}
	req := payments.PaymentRequest{IdempotencyKey: "order-1842", Payer: "acct_alice0001", Payee: "acct_bob00002",
		Amount: payments.MustParseMoney("12.50 USD")}

	claim, _ := s.Claim(ctx, req, lease)
	token := claim.Record.Claim.Token
	fmt.Println("first call:", claim.Status)
	_ = s.MarkStarted(ctx, req.IdempotencyKey, token, "bank")
	// ... the bank moves the money ...
	entry := payments.Entry{PaymentID: req.IdempotencyKey, TransferID: "tr-77", Payer: req.Payer, Payee: req.Payee,
		Amount: req.Amount, At: now}
	_ = s.Finish(ctx, req.IdempotencyKey, token, store.Result{State: store.Succeeded, TransferID: "tr-77"}, &entry)

	retry, _ := s.Claim(ctx, req, lease)
	fmt.Println("retry:", retry.Status, retry.Record.Result.State, retry.Record.Result.TransferID)

	queued, _ := s.Next(ctx, lease, 10)
	fmt.Println("to log:", queued[0].PaymentID, queued[0].Amount)
	_ = s.Ack(ctx, queued[0].PaymentID)
	st, _ := s.Stats(ctx)
	fmt.Println("queued after ack:", st.Outbox)
	// Output:
	// first call: claimed
	// retry: replayed succeeded tr-77
	// to log: order-1842 12.50 USD
	// queued after ack: 0
}
