package sim

import (
	"context"
	"fmt"
	"sync"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
)

// BankConfig configures a [Bank]. The zero value is ready to use.
type BankConfig struct {
	// Clock stamps receipts; nil means the real clock.
	Clock clock.Clock
}

// BankStats counts what a [Bank] did: a copy taken under the bank's lock,
// so its fields are consistent with one another. It is plain data.
type BankStats struct {
	TransferCalls int // calls of Transfer that reached the bank
	StatusCalls   int // calls of Status
	DebitsApplied int // transfers that moved money: never more than one per key
	Replays       int // repeats answered from the idempotency table
	Conflicts     int // keys reused with a different request, refused
	Declines      int // new transfers declined (insufficient funds, …)
	// DoubleCharges counts debits of a payment reference
	// (TransferRequest.PaymentID) already debited under another key: the
	// same payment charged again. See [Bank.DoubleCharges].
	DoubleCharges int
}

// DoubleCharge is one payment reference (TransferRequest.PaymentID) that
// the bank debited under more than one idempotency key: a payment charged
// more than once. It is plain data.
type DoubleCharge struct {
	PaymentID   string   `json:"payment_id"`
	Keys        []string `json:"keys"`         // the keys that debited it, in commit order
	TransferIDs []string `json:"transfer_ids"` // their transfers, in the same order
}

// Bank is an in-memory payments.Bank: accounts with a balance in one
// currency, and an idempotency table that makes each key debit at most once.
// A transfer is checked, debited, credited and recorded under one lock, so it
// is atomic. Build it with [NewBank]; it is safe for concurrent use.
type Bank struct {
	clock clock.Clock

	mu       sync.Mutex // protects everything below
	accounts map[payments.AccountID]payments.Money
	byKey    map[string]*bankRecord
	order    []string            // keys in commit order
	debited  map[string][]string // payment reference → keys that debited it
	stats    BankStats
}

type bankRecord struct {
	req    payments.TransferRequest
	status payments.TransferStatus
}

// NewBank returns a bank with no accounts.
func NewBank(cfg BankConfig) *Bank {
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	return &Bank{clock: cfg.Clock, accounts: make(map[payments.AccountID]payments.Money),
		byKey: make(map[string]*bankRecord), debited: make(map[string][]string)}
}

// Open creates account id with the given balance, or resets its balance.
func (b *Bank) Open(id payments.AccountID, balance payments.Money) error {
	if !id.Valid() || !balance.Currency().Known() || balance.Sign() < 0 {
		return fmt.Errorf("sim: Open(%q, %s): want a well-formed account and a non-negative balance", id, balance)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts[id] = balance
	return nil
}

// Balance returns the balance of id and whether the account exists.
func (b *Bank) Balance(id payments.AccountID) (payments.Money, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.accounts[id]
	return m, ok
}

// Stats returns a copy of the counters.
func (b *Bank) Stats() BankStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// Transfers returns the status of every key the bank has answered (completed
// or declined), in the order they were first decided. Each status carries
// the request's PaymentID, if it had one.
func (b *Bank) Transfers() []payments.TransferStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]payments.TransferStatus, 0, len(b.order))
	for _, k := range b.order {
		out = append(out, b.byKey[k].status)
	}
	return out
}

// Transfer implements payments.Bank. A declined transfer is recorded under
// its key too, so a repeat is declined the same way even if funds arrive
// later: one key, one answer.
func (b *Bank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	if err := req.Validate(); err != nil {
		return payments.Receipt{}, err
	}
	if err := ctx.Err(); err != nil {
		return payments.Receipt{}, err // gone before commit: nothing moves
	}
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.TransferCalls++
	if rec, ok := b.byKey[req.IdempotencyKey]; ok {
		if rec.req != req {
			b.stats.Conflicts++
			return payments.Receipt{}, fmt.Errorf("%w: key %q was used for %s from %s to %s",
				payments.ErrIdempotencyConflict, req.IdempotencyKey, rec.req.Amount, rec.req.From, rec.req.To)
		}
		b.stats.Replays++
		return answer(rec, true)
	}
	st, err := b.apply(req)
	st.IdempotencyKey, st.PaymentID, st.Amount, st.At = req.IdempotencyKey, req.PaymentID, req.Amount, now
	if err != nil {
		return payments.Receipt{}, err
	}
	rec := &bankRecord{req: req, status: st}
	b.byKey[req.IdempotencyKey] = rec
	b.order = append(b.order, req.IdempotencyKey)
	if st.State == payments.TransferCompleted && req.PaymentID != "" {
		keys := append(b.debited[req.PaymentID], req.IdempotencyKey)
		b.debited[req.PaymentID] = keys
		if len(keys) > 1 {
			b.stats.DoubleCharges++
		}
	}
	return answer(rec, false)
}

// DoubleCharges lists every payment reference debited under more than one
// idempotency key, in the order of their first debit; nil when there is
// none. A drill's "no double debit" check reads it: the idempotency table
// stops a key from debiting twice, but only this catches one payment sent
// under two keys.
func (b *Bank) DoubleCharges() []DoubleCharge {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []DoubleCharge
	for _, k := range b.order {
		pid := b.byKey[k].req.PaymentID
		keys := b.debited[pid]
		if pid == "" || len(keys) < 2 || keys[0] != k { // listed once, at its first debit
			continue
		}
		dc := DoubleCharge{PaymentID: pid, Keys: append([]string(nil), keys...)}
		for _, key := range keys {
			dc.TransferIDs = append(dc.TransferIDs, b.byKey[key].status.TransferID)
		}
		out = append(out, dc)
	}
	return out
}

// apply moves the money or decides the decline. It runs under b.mu. An
// error other than a decline leaves nothing recorded.
func (b *Bank) apply(req payments.TransferRequest) (payments.TransferStatus, error) {
	from, okFrom := b.accounts[req.From]
	to, okTo := b.accounts[req.To]
	decline := func(reason string) (payments.TransferStatus, error) {
		b.stats.Declines++
		return payments.TransferStatus{State: payments.TransferDeclined, DeclineReason: reason}, nil
	}
	switch {
	case !okFrom || !okTo:
		return decline(payments.DeclineUnknownAccount)
	case from.Currency() != req.Amount.Currency() || to.Currency() != req.Amount.Currency():
		return decline(payments.DeclineCurrency)
	case from.Minor() < req.Amount.Minor():
		return decline(payments.DeclineInsufficientFunds)
	}
	newFrom, err1 := from.Sub(req.Amount)
	newTo, err2 := to.Add(req.Amount)
	if err1 != nil || err2 != nil {
		return payments.TransferStatus{}, fmt.Errorf("sim: transfer %q: %w", req.IdempotencyKey, payments.ErrOverflow)
	}
	b.accounts[req.From], b.accounts[req.To] = newFrom, newTo
	b.stats.DebitsApplied++
	id := fmt.Sprintf("tr_%08d", b.stats.DebitsApplied)
	return payments.TransferStatus{State: payments.TransferCompleted, TransferID: id}, nil
}

func answer(rec *bankRecord, replayed bool) (payments.Receipt, error) {
	st := rec.status
	if st.State == payments.TransferDeclined {
		return payments.Receipt{}, &payments.DeclineError{Reason: st.DeclineReason}
	}
	return payments.Receipt{TransferID: st.TransferID, IdempotencyKey: st.IdempotencyKey,
		Amount: st.Amount, CommittedAt: st.At, Replayed: replayed}, nil
}

// Status implements payments.Bank.
func (b *Bank) Status(_ context.Context, key string) (payments.TransferStatus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.StatusCalls++
	rec, ok := b.byKey[key]
	if !ok {
		return payments.TransferStatus{}, fmt.Errorf("%w: no transfer under key %q", payments.ErrNotFound, key)
	}
	return rec.status, nil
}

var _ payments.Bank = (*Bank)(nil)
