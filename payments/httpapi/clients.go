package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/riprap-go/riprap/payments"
)

// BankClient is a payments.Bank over HTTP. It is safe for concurrent use;
// build it with [NewBankClient] (the zero value is not usable).
type BankClient struct{ c client }

// NewBankClient returns a client of the bank served at baseURL.
func NewBankClient(baseURL string, cfg ClientConfig) (*BankClient, error) {
	c, err := newClient("bank", baseURL, cfg)
	if err != nil {
		return nil, err
	}
	return &BankClient{c: c}, nil
}

// Transfer posts req. An invalid req is refused before anything is sent,
// with its *payments.ValidationError. Errors are [*Error]s, see the package
// documentation; a decline matches payments.ErrDeclined.
func (b *BankClient) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	if err := req.Validate(); err != nil {
		return payments.Receipt{}, err
	}
	var r payments.Receipt
	if err := b.c.doKeyed(ctx, "bank.Transfer", http.MethodPost, PathTransfers, req.IdempotencyKey, req, &r); err != nil {
		return r, err
	}
	// A 2xx that does not describe this transfer proves nothing: treat it
	// as malformed (outcome unknown), never as money moved.
	if r.TransferID == "" || r.IdempotencyKey != req.IdempotencyKey || r.Amount != req.Amount {
		return payments.Receipt{}, &Error{Op: "bank.Transfer", StatusCode: http.StatusOK, class: ErrMalformedResponse,
			Cause: fmt.Errorf("receipt %+v does not match the transfer %q of %s", r, req.IdempotencyKey, req.Amount)}
	}
	return r, nil
}

// Status looks a transfer up by idempotency key; an unknown key matches
// payments.ErrNotFound.
func (b *BankClient) Status(ctx context.Context, key string) (payments.TransferStatus, error) {
	if !payments.ValidIdempotencyKey(key) {
		return payments.TransferStatus{}, &payments.ValidationError{Problems: []payments.FieldError{
			{Field: "idempotency_key", Problem: payments.KeyRule}}}
	}
	var s payments.TransferStatus
	err := b.c.do(ctx, "bank.Status", http.MethodGet, PathTransfers+"/"+url.PathEscape(key), nil, &s)
	return s, err
}

// Health returns nil when the bank answers its health check with a 2xx.
func (b *BankClient) Health(ctx context.Context) error {
	return b.c.do(ctx, "bank.Health", http.MethodGet, PathHealth, nil, nil)
}

// FXClient is a payments.FX over HTTP. It is safe for concurrent use;
// build it with [NewFXClient].
type FXClient struct{ c client }

// NewFXClient returns a client of the exchange service served at baseURL.
func NewFXClient(baseURL string, cfg ClientConfig) (*FXClient, error) {
	c, err := newClient("fx", baseURL, cfg)
	if err != nil {
		return nil, err
	}
	return &FXClient{c: c}, nil
}

// Quote asks for the rate from one currency to another; a missing pair
// matches payments.ErrNoRate.
func (f *FXClient) Quote(ctx context.Context, from, to payments.Currency) (payments.Quote, error) {
	if !from.Known() || !to.Known() {
		return payments.Quote{}, payments.ErrUnknownCurrency
	}
	q := url.Values{"from": {from.Code()}, "to": {to.Code()}}
	var out payments.Quote
	err := f.c.do(ctx, "fx.Quote", http.MethodGet, PathQuotes+"?"+q.Encode(), nil, &out)
	if err == nil && (out.From != from || out.To != to || !out.Rate.Valid()) {
		err = &Error{Op: "fx.Quote", StatusCode: http.StatusOK, class: ErrMalformedResponse,
			Cause: errQuoteMismatch}
	}
	return out, err
}

// Health returns nil when the exchange service answers its health check.
func (f *FXClient) Health(ctx context.Context) error {
	return f.c.do(ctx, "fx.Health", http.MethodGet, PathHealth, nil, nil)
}

var (
	_ payments.Bank = (*BankClient)(nil)
	_ payments.FX   = (*FXClient)(nil)
)
