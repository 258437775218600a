package pgstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// payCols are the columns of payments, in the order of payRow.
const payCols = `key, payer, payee, amount_minor, currency, target_currency, description, reference,
	settled_minor, settled_currency, quote_from, quote_to, quote_rate_num, quote_rate_den, quote_as_of_ns,
	bank, started, state, reason, error, retry_after_ns, transfer_id, quote_fallback, quote_age_ns,
	claim_token, claim_owner, claim_expires_ns, checks, last_wait_ns, next_check_ns, log, refused`

// payRow is a payments row as the driver sees it.
type payRow struct {
	key, payer, payee      string
	amount                 int64
	currency               string
	target                 sql.NullString
	desc, ref              string
	settledMinor           sql.NullInt64
	settledCur, qFrom, qTo sql.NullString
	qNum, qDen, qAsOf      sql.NullInt64
	bank                   string
	started                bool
	state, reason, errText string
	retryAfter             int64
	transfer               string
	qFallback              bool
	qAge                   int64
	claimToken, claimOwner sql.NullString
	claimExpires           sql.NullInt64
	checks                 int32
	lastWait               int64
	nextCheck              sql.NullInt64
	log                    int16
	refused                string // JSON array, or '' for none
}

func (r *payRow) dest() []any {
	return []any{&r.key, &r.payer, &r.payee, &r.amount, &r.currency, &r.target, &r.desc, &r.ref,
		&r.settledMinor, &r.settledCur, &r.qFrom, &r.qTo, &r.qNum, &r.qDen, &r.qAsOf,
		&r.bank, &r.started, &r.state, &r.reason, &r.errText, &r.retryAfter, &r.transfer, &r.qFallback, &r.qAge,
		&r.claimToken, &r.claimOwner, &r.claimExpires, &r.checks, &r.lastWait, &r.nextCheck, &r.log, &r.refused}
}

func (r *payRow) args() []any {
	return []any{r.key, r.payer, r.payee, r.amount, r.currency, r.target, r.desc, r.ref,
		r.settledMinor, r.settledCur, r.qFrom, r.qTo, r.qNum, r.qDen, r.qAsOf,
		r.bank, r.started, r.state, r.reason, r.errText, r.retryAfter, r.transfer, r.qFallback, r.qAge,
		r.claimToken, r.claimOwner, r.claimExpires, r.checks, r.lastWait, r.nextCheck, r.log, r.refused}
}

func encodeRecord(rec store.Record) payRow {
	q := rec.Request
	r := payRow{key: q.IdempotencyKey, payer: string(q.Payer), payee: string(q.Payee), amount: q.Amount.Minor(),
		currency: q.Amount.Currency().Code(), desc: q.Description, ref: q.Reference, bank: rec.Bank,
		started: rec.Started, state: string(rec.Result.State), reason: rec.Result.Reason, errText: rec.Result.Error,
		retryAfter: int64(rec.Result.RetryAfter), transfer: rec.Result.TransferID,
		qFallback: rec.Result.QuoteFallback, qAge: int64(rec.Result.QuoteAge), checks: int32(rec.Checks),
		lastWait: int64(rec.LastWait), nextCheck: nanos(rec.NextCheck), log: int16(rec.Log)}
	if q.TargetCurrency.Known() {
		r.target = text(q.TargetCurrency.Code())
	}
	if s, _, ok := rec.Settlement(); ok {
		r.settledMinor = sql.NullInt64{Int64: s.Minor(), Valid: true}
		r.settledCur = text(s.Currency().Code())
	}
	if qt := rec.Quote; qt != nil {
		r.qFrom, r.qTo = text(qt.From.Code()), text(qt.To.Code())
		r.qNum = sql.NullInt64{Int64: qt.Rate.Num(), Valid: true}
		r.qDen = sql.NullInt64{Int64: qt.Rate.Den(), Valid: true}
		r.qAsOf = nanos(qt.AsOf)
	}
	if len(rec.Refused) > 0 {
		b, _ := json.Marshal(rec.Refused) // a []string always marshals
		r.refused = string(b)
	}
	if c := rec.Claim; c.Held() {
		r.claimToken, r.claimOwner = text(c.Token), text(c.Owner)
		r.claimExpires = nanos(c.Expires)
	}
	return r
}

// decode turns the row into a record; an error matches store.ErrDamaged:
// the row passed the schema's checks and still cannot be read (a currency
// this version does not know, say).
func (r *payRow) decode() (store.Record, error) {
	var d decoder
	req := payments.PaymentRequest{IdempotencyKey: r.key, Payer: payments.AccountID(r.payer),
		Payee: payments.AccountID(r.payee), Amount: payments.New(r.amount, d.currency(r.currency)),
		Description: r.desc, Reference: r.ref}
	if r.target.Valid {
		req.TargetCurrency = d.currency(r.target.String)
	}
	rec := store.Record{Request: req, Bank: r.bank, Started: r.started, Checks: int(r.checks),
		LastWait: time.Duration(r.lastWait), NextCheck: timeOf(r.nextCheck), Log: store.LogState(r.log),
		Result: store.Result{State: store.State(r.state), Reason: r.reason, Error: r.errText,
			RetryAfter: time.Duration(r.retryAfter), TransferID: r.transfer, QuoteFallback: r.qFallback,
			QuoteAge: time.Duration(r.qAge)}}
	if r.settledMinor.Valid {
		rec.Settled = payments.New(r.settledMinor.Int64, d.currency(r.settledCur.String))
	}
	if r.qFrom.Valid {
		rec.Quote = &payments.Quote{From: d.currency(r.qFrom.String), To: d.currency(r.qTo.String),
			Rate: d.rate(r.qNum.Int64, r.qDen.Int64), AsOf: timeOf(r.qAsOf)}
	}
	if r.claimToken.Valid {
		rec.Claim = store.Claim{Token: r.claimToken.String, Owner: r.claimOwner.String, Expires: timeOf(r.claimExpires)}
	}
	if r.refused != "" {
		if err := json.Unmarshal([]byte(r.refused), &rec.Refused); err != nil && d.err == nil {
			d.err = fmt.Errorf("refused banks: %w", err)
		}
	}
	if d.err != nil || !rec.Result.State.Valid() {
		return store.Record{}, fmt.Errorf("%w: payment %q: unreadable row (%v)", store.ErrDamaged, r.key, d.err)
	}
	return rec, nil
}

// entryCols are the columns of an outbox entry, in the order of entryRow.
const entryCols = `payment_id, transfer_id, payer, payee, amount_minor, currency, credited_minor,
	credited_currency, at_ns`

// entryRow is an outbox entry as the driver sees it.
type entryRow struct {
	id, transfer, payer, payee string
	amount                     int64
	currency                   string
	creditedMinor              sql.NullInt64
	creditedCur                sql.NullString
	at                         sql.NullInt64
}

func (r *entryRow) dest() []any {
	return []any{&r.id, &r.transfer, &r.payer, &r.payee, &r.amount, &r.currency, &r.creditedMinor,
		&r.creditedCur, &r.at}
}

func (r *entryRow) args() []any {
	return []any{r.id, r.transfer, r.payer, r.payee, r.amount, r.currency, r.creditedMinor, r.creditedCur, r.at}
}

func encodeEntry(e payments.Entry) entryRow {
	r := entryRow{id: e.PaymentID, transfer: e.TransferID, payer: string(e.Payer), payee: string(e.Payee),
		amount: e.Amount.Minor(), currency: e.Amount.Currency().Code(), at: nanos(e.At)}
	if e.Credited.Currency().Known() {
		r.creditedMinor = sql.NullInt64{Int64: e.Credited.Minor(), Valid: true}
		r.creditedCur = text(e.Credited.Currency().Code())
	}
	return r
}

func (r *entryRow) decode() (payments.Entry, error) {
	var d decoder
	e := payments.Entry{PaymentID: r.id, TransferID: r.transfer, Payer: payments.AccountID(r.payer),
		Payee: payments.AccountID(r.payee), Amount: payments.New(r.amount, d.currency(r.currency)), At: timeOf(r.at)}
	if r.creditedMinor.Valid {
		e.Credited = payments.New(r.creditedMinor.Int64, d.currency(r.creditedCur.String))
	}
	if d.err != nil {
		return payments.Entry{}, fmt.Errorf("%w: log entry of payment %q: unreadable row (%v)", store.ErrDamaged, r.id, d.err)
	}
	return e, nil
}

// decoder parses stored values, keeping the first error.
type decoder struct{ err error }

func (d *decoder) currency(code string) payments.Currency {
	c, err := payments.LookupCurrency(code)
	if err != nil && d.err == nil {
		d.err = err
	}
	return c
}

func (d *decoder) rate(num, den int64) payments.Rate {
	r, err := payments.NewRate(num, den)
	if err != nil && d.err == nil {
		d.err = err
	}
	return r
}

func text(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

// nanos stores the zero time as NULL (its UnixNano is not defined) and
// any other as nanoseconds since 1970.
func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// timeOf reads a time stored by nanos back, in UTC.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
