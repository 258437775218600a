package gateway

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// errInFlight is the cause of a rejection when the same payment is already
// being processed by another call.
var errInFlight = errors.New("gateway: the same payment is being processed")

// record is the gateway's memory of one payment, keyed by idempotency key.
type record struct {
	req     payments.PaymentRequest
	settled payments.Money  // fixed by the first successful quote
	quote   *payments.Quote // the quote used, if any
	result  Result          // the last outcome
	running bool            // a call of Pay or the reconciler is on it

	// Reconciliation, for Pending records.
	checks    int
	lastWait  time.Duration
	nextCheck time.Time
}

// ledger holds every payment the gateway has seen. It is safe for
// concurrent use.
type ledger struct {
	mu      sync.Mutex // protects the maps and every record's fields
	byKey   map[string]*record
	pending map[string]*record
	counts  map[State]int // final states of the records, by their last result
}

func newLedger() *ledger {
	return &ledger{byKey: make(map[string]*record), pending: make(map[string]*record), counts: make(map[State]int)}
}

// begin claims the payment for one call of Pay. It returns the record to
// work on, or a result to answer at once: a conflict (the key was used for
// another payment), a replay of a settled outcome, or a rejection while
// another call holds the payment.
func (l *ledger) begin(req payments.PaymentRequest) (*record, *Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, ok := l.byKey[req.IdempotencyKey]
	if !ok {
		rec = &record{req: req, running: true}
		l.byKey[req.IdempotencyKey] = rec
		return rec, nil
	}
	if rec.req != req {
		return nil, &Result{PaymentID: req.IdempotencyKey, State: Declined,
			Reason: "the idempotency key was already used for a different payment",
			Err:    fmt.Errorf("gateway: %w", payments.ErrIdempotencyConflict)}
	}
	if rec.running {
		return nil, &Result{PaymentID: req.IdempotencyKey, State: Rejected,
			Reason: "the same payment is being processed; ask again shortly", Err: errInFlight, RetryAfter: time.Second}
	}
	if rec.result.State != Rejected {
		r := rec.result
		r.Replayed = true
		return nil, &r
	}
	rec.running = true // a rejected payment may be tried again
	return rec, nil
}

// finish stores the outcome of a call and releases the record.
func (l *ledger) finish(rec *record, r Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec.result.State != "" {
		l.counts[rec.result.State]--
	}
	rec.result = r
	l.counts[r.State]++
	rec.running = false
	if r.State == Pending {
		l.pending[rec.req.IdempotencyKey] = rec
	} else {
		delete(l.pending, rec.req.IdempotencyKey)
	}
}

// due claims the pending records whose next check has come.
func (l *ledger) due(now time.Time, all bool) []*record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*record
	for _, rec := range l.pending {
		if !rec.running && (all || !now.Before(rec.nextCheck)) {
			rec.running = true
			out = append(out, rec)
		}
	}
	return out
}

// release puts back a pending record that is still pending, to be checked
// again at next.
func (l *ledger) release(rec *record, next time.Time, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec.checks++
	rec.lastWait, rec.nextCheck = wait, next
	rec.running = false
}

// setSettlement remembers the amount and quote of a payment's first
// conversion, so that retries of it ask the bank for the same transfer.
func (l *ledger) setSettlement(rec *record, settled payments.Money, q *payments.Quote) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec.settled, rec.quote = settled, q
}

func (l *ledger) settlement(rec *record) (payments.Money, *payments.Quote, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return rec.settled, rec.quote, rec.settled.Currency().Known()
}

// snapshot reports how many payments are in each state now, and how many
// are pending.
func (l *ledger) snapshot() (map[State]int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := make(map[State]int, len(l.counts))
	for k, v := range l.counts {
		if v != 0 {
			c[k] = v
		}
	}
	return c, len(l.pending)
}

func (l *ledger) lookup(key string) (Result, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, ok := l.byKey[key]
	if !ok || rec.result.State == "" {
		return Result{}, false
	}
	return rec.result, true
}
