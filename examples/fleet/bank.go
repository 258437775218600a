package main

import (
	"context"
	"net/http"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
)

// limitedBank is a bank client whose transfers first take a token from a
// rate limit: the fleet's, in Redis, or (for a deliberately broken fleet)
// a process's own. Status lookups are not limited.
//
// The limit sits here, inside the gateway's breaker and retry, because
// gateway.BankPolicy takes a rate and builds a local limiter of its own;
// it has no place for a shared one. A refused transfer returns a
// rejection, which the gateway reads as "not processed": the breaker
// ignores it and the payment is rejected, safe to retry.
//
// It is safe for concurrent use.
type limitedBank struct {
	payments.Bank
	limit resilience.Guard
}

// Transfer sends req to the bank once the limit admits it.
func (b *limitedBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	var rc payments.Receipt
	err := resilience.Run(ctx, func(ctx context.Context) error {
		var err error
		rc, err = b.Bank.Transfer(ctx, req)
		return err
	}, b.limit)
	return rc, err
}

// InstanceHeader names the process that sent a request to the bank, so
// that a test's bank can say which process knocked while it was down.
const InstanceHeader = "X-Fleet-Instance"

// signed is an http.RoundTripper that names the process on each request.
type signed struct {
	instance string
	next     http.RoundTripper
}

func (s signed) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(InstanceHeader, s.instance)
	return s.next.RoundTrip(r)
}
