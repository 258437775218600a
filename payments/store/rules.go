package store

import (
	"fmt"
	"slices"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// The rules of the [Ledger], as pure functions from the stored record to
// the record to store, so that every implementation applies the same: an
// implementation loads the record, applies the rule and writes the result
// in one transaction. Each rule works on a copy.

// ApplyClaim decides a [Ledger.Claim] on stored (nil for a key never
// seen). It returns the answer and the record to write, nil when nothing
// changes; a written record whose state reserves an outbox slot where
// stored's did not (see [State.Reserves]) must fit within MaxOutbox.
func ApplyClaim(stored *Record, req payments.PaymentRequest, lease Lease) (ClaimResult, *Record, error) {
	if err := checkLease(lease); err != nil {
		return ClaimResult{}, nil, err
	}
	if err := req.Validate(); err != nil {
		return ClaimResult{}, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if stored == nil {
		rec := &Record{Request: req, Claim: newClaim(lease)}
		return ClaimResult{Status: Claimed, Record: rec.Copy()}, rec, nil
	}
	cur := stored.Copy()
	switch {
	case cur.Request != req:
		return ClaimResult{Status: Conflict, Record: cur}, nil, nil
	case cur.Claim.Live(lease.Now):
		return ClaimResult{Status: InFlight, Record: cur}, nil, nil
	case cur.Result.State != "" && cur.Result.State != Rejected:
		return ClaimResult{Status: Replayed, Record: cur}, nil, nil
	}
	// Rejected (tried again: its old answer is superseded) or never
	// answered, its claimant gone.
	takenOver := cur.Claim.Held()
	if cur.Result.State == Rejected {
		// Rejected proves no bank processed the payment: the new attempt
		// starts afresh (the banks that refused the last one may take
		// this one), and until it calls MarkStarted the payment is an
		// orphan DuePending can close, not a started one nobody resolves.
		cur.Started, cur.Bank, cur.Refused = false, "", nil
	}
	cur.Result = Result{}
	cur.Claim = newClaim(lease)
	rec := cur.Copy()
	return ClaimResult{Status: Claimed, Record: cur, TakenOver: takenOver}, &rec, nil
}

// ApplySettlement applies [Ledger.SaveSettlement]; changed is false when a
// settlement was saved before (the first one stays).
func ApplySettlement(stored Record, token string, settled payments.Money, quote *payments.Quote) (rec Record, changed bool, err error) {
	if err := checkToken(stored, token); err != nil {
		return stored, false, err
	}
	if !settled.Currency().Known() || settled.Sign() <= 0 {
		return stored, false, invalid("settled amount %v", settled)
	}
	if quote != nil && (!quote.Rate.Valid() || !quote.From.Known() || !quote.To.Known()) {
		return stored, false, invalid("quote %v %v->%v", quote.Rate, quote.From, quote.To)
	}
	if _, _, ok := stored.Settlement(); ok {
		return stored, false, nil
	}
	rec = stored.Copy()
	rec.Settled, rec.Quote = settled, copyQuote(quote)
	return rec, true, nil
}

// ApplyStart applies [Ledger.MarkStarted].
func ApplyStart(stored Record, token, bank string) (Record, error) {
	if err := checkToken(stored, token); err != nil {
		return stored, err
	}
	if bank == "" {
		return stored, invalid("an empty bank name")
	}
	rec := stored.Copy()
	rec.Started, rec.Bank = true, bank
	rec.Result = Result{State: Pending, Reason: "handed to bank " + bank + "; its outcome is not known yet"}
	return rec, nil
}

// MaxRefused bounds Record.Refused: a gateway has a handful of banks, and
// a record must not grow without bound whatever a caller sends.
const MaxRefused = 16

// ApplyRefused applies [Ledger.MarkRefused]; changed is false when bank
// was listed already.
func ApplyRefused(stored Record, token, bank string) (rec Record, changed bool, err error) {
	if err := checkToken(stored, token); err != nil {
		return stored, false, err
	}
	switch {
	case bank == "":
		return stored, false, invalid("an empty bank name")
	case slices.Contains(stored.Refused, bank):
		return stored, false, nil
	case len(stored.Refused) >= MaxRefused:
		return stored, false, invalid("bank %q refusing payment %q: it lists %d refusals already, the most kept",
			bank, stored.Key(), MaxRefused)
	}
	rec = stored.Copy()
	rec.Refused = append(rec.Refused, bank)
	return rec, true, nil
}

// ApplyFinish applies [Ledger.Finish]; queue reports whether entry is to
// be queued in the same transaction.
func ApplyFinish(stored Record, token string, r Result, entry *payments.Entry) (rec Record, queue bool, err error) {
	if err := CheckFinish(stored.Key(), r, entry); err != nil {
		return stored, false, err
	}
	if err := checkToken(stored, token); err != nil {
		return stored, false, err
	}
	rec = stored.Copy()
	rec.Result, rec.Claim = r, Claim{}
	if entry != nil && rec.Log == NotLogged {
		rec.Log, queue = Queued, true
	}
	return rec, queue, nil
}

// ApplyPostpone applies [Ledger.Postpone].
func ApplyPostpone(stored Record, token string, next time.Time, wait time.Duration) (Record, error) {
	if err := checkToken(stored, token); err != nil {
		return stored, err
	}
	if stored.Result.State != Pending {
		return stored, invalid("postponing payment %q in state %q", stored.Key(), stored.Result.State)
	}
	if wait < 0 {
		return stored, invalid("a negative wait %v", wait)
	}
	rec := stored.Copy()
	rec.Checks++
	rec.LastWait, rec.NextCheck, rec.Claim = wait, next, Claim{}
	return rec, nil
}

// ApplyDue decides whether [Ledger.DuePending] takes stored, and returns
// it claimed when it does.
func ApplyDue(stored Record, lease Lease, dueBy time.Time) (Record, bool) {
	if stored.Claim.Live(lease.Now) {
		return stored, false
	}
	due := stored.Result.State == Pending && !stored.NextCheck.After(dueBy)
	orphan := stored.Result.State == "" && !stored.Started
	if !due && !orphan {
		return stored, false
	}
	rec := stored.Copy()
	rec.Claim = newClaim(lease)
	return rec, true
}

// CheckLease refuses a lease without an owner or with a TTL that is not
// positive, for implementations.
func CheckLease(l Lease) error { return checkLease(l) }

func checkLease(l Lease) error {
	switch {
	case l.Owner == "":
		return invalid("a lease without an owner")
	case l.TTL <= 0:
		return invalid("a lease TTL of %v", l.TTL)
	}
	return nil
}

func checkToken(stored Record, token string) error {
	if token == "" || stored.Claim.Token != token {
		return fmt.Errorf("%w: payment %q", ErrClaimLost, stored.Key())
	}
	return nil
}

func newClaim(l Lease) Claim {
	return Claim{Token: NewToken(), Owner: l.Owner, Expires: l.Expires()}
}

// Copy returns r with its own copy of the quote and of the refusals.
func (r Record) Copy() Record {
	r.Quote = copyQuote(r.Quote)
	r.Refused = slices.Clip(slices.Clone(r.Refused))
	return r
}

func copyQuote(q *payments.Quote) *payments.Quote {
	if q == nil {
		return nil
	}
	c := *q
	return &c
}
