package main

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
)

// timeouts are the per-call timeouts of each dependency, the same with and
// without protection, so that the comparison is about the policies and not
// about the deadlines. They are also the bar by which the checks judge
// that a dependency "answers in time".
type timeouts struct {
	bank, fx, log time.Duration
}

// drillTimeouts are the command's: the simulated services answer in
// milliseconds when healthy.
var drillTimeouts = timeouts{bank: 500 * time.Millisecond, fx: 250 * time.Millisecond, log: 500 * time.Millisecond}

// of returns the timeout of a service's calls.
func (t timeouts) of(service string) time.Duration {
	switch service {
	case "bank", secondBank:
		return t.bank
	case "fx":
		return t.fx
	}
	return t.log
}

// Unknown is where the unprotected payer leaves a payment whose transfer
// failed in a way that does not say whether the bank moved the money: with
// no reconciler, nobody ever finds out.
const Unknown gateway.State = "unknown"

// payer settles one payment and says how it ended.
type payer interface {
	pay(ctx context.Context, req payments.PaymentRequest) gateway.State
}

// gatewayPayer is the protected run: the real gateway.
type gatewayPayer struct{ g *gateway.Gateway }

func (p gatewayPayer) pay(ctx context.Context, req payments.PaymentRequest) gateway.State {
	return p.g.Pay(ctx, req).State
}

// plainPayer is the baseline: the same HTTP clients with a timeout on each
// call and nothing else — no breaker, no retry, no fallback, no outbox, no
// reconciliation. It is what a first version of a gateway looks like.
type plainPayer struct {
	bank     *httpapi.BankClient
	fx       *httpapi.FXClient
	log      *httpapi.LogClient
	timeouts timeouts
}

func (p plainPayer) pay(ctx context.Context, req payments.PaymentRequest) gateway.State {
	if err := req.Validate(); err != nil {
		return gateway.Declined
	}
	settled := req.Amount
	if to := req.TargetCurrency; to != (payments.Currency{}) && to != req.Amount.Currency() {
		qctx, cancel := context.WithTimeout(ctx, p.timeouts.fx)
		q, err := p.fx.Quote(qctx, req.Amount.Currency(), to)
		cancel()
		if err != nil {
			return gateway.Rejected // no rate, nothing sent to the bank
		}
		if settled, err = req.Amount.Convert(q.Rate, to, payments.HalfEven); err != nil {
			return gateway.Declined
		}
	}
	tctx, cancel := context.WithTimeout(ctx, p.timeouts.bank)
	rc, err := p.bank.Transfer(tctx, payments.TransferRequest{IdempotencyKey: req.IdempotencyKey,
		PaymentID: req.IdempotencyKey, From: req.Payer, To: req.Payee, Amount: settled})
	cancel()
	switch {
	case errors.Is(err, payments.ErrDeclined) || payments.IsPermanent(err):
		return gateway.Declined
	case err != nil && httpapi.NotProcessed(err):
		return gateway.Rejected
	case err != nil:
		return Unknown
	}
	e := payments.Entry{PaymentID: req.IdempotencyKey, TransferID: rc.TransferID, Payer: req.Payer,
		Payee: req.Payee, Amount: req.Amount}
	if settled != req.Amount {
		e.Credited = settled
	}
	lctx, cancel := context.WithTimeout(ctx, p.timeouts.log)
	_ = p.log.Append(lctx, e) // a failed append is simply lost
	cancel()
	return gateway.Succeeded
}

// callStats counts, at the client, the requests sent to one service: all
// of them, and those sent while one of its fault windows was active.
type callStats struct {
	Total, Probes int
	InWindow      []windowCalls // one per fault window of the service
}

type windowCalls struct{ Calls, Probes int }

// countingTransport counts requests on their way out, by the time they
// leave: the client-side truth of "calls that reached a failing service".
type countingTransport struct {
	base    http.RoundTripper
	epoch   time.Time
	windows []Fault

	mu    sync.Mutex // protects stats
	stats callStats
}

func newCountingTransport(epoch time.Time, windows []Fault, conns int) *countingTransport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	// Hundreds of goroutines share a host: keep their connections.
	base.MaxIdleConnsPerHost, base.MaxIdleConns = conns, 2*conns
	return &countingTransport{base: base, epoch: epoch, windows: windows,
		stats: callStats{InWindow: make([]windowCalls, len(windows))}}
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	at := time.Since(c.epoch)
	probe := r.URL.Path == httpapi.PathHealth
	c.mu.Lock()
	c.stats.Total++
	if probe {
		c.stats.Probes++
	}
	for i, w := range c.windows {
		if at >= w.Start && at < w.End {
			c.stats.InWindow[i].Calls++
			if probe {
				c.stats.InWindow[i].Probes++
			}
		}
	}
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func (c *countingTransport) snapshot() callStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.InWindow = append([]windowCalls(nil), s.InWindow...)
	return s
}

func (c *countingTransport) close() { c.base.(*http.Transport).CloseIdleConnections() }
