package sqlitestore

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// payCols are the columns of payments, in the order of payRow.
const payCols = `key, payer, payee, amount_minor, currency, target_currency, description, reference,
	settled_minor, settled_currency, quote_from, quote_to, quote_rate, quote_as_of, bank, started, state,
	reason, error, retry_after, transfer_id, quote_fallback, quote_age, claim_token, claim_owner,
	claim_expires, checks, last_wait, next_check, log, refused, crc`

// selectCols reads payCols and, last, how far the payment's log entry is
// in the outbox: NULL when no entry is there (delivered, or never
// queued), 1 while queued, 3 once set aside. The log column is written
// Queued by Finish and left so: Ack and Refuse change only the outbox, and
// the record's LogState is read from it (see payRow.decode), which saves
// rewriting the payment's row for every entry the log takes.
const selectCols = payCols + `, (SELECT CASE WHEN refused_reason IS NULL THEN 1 ELSE 3 END FROM outbox
	WHERE outbox.payment_id = payments.key)`

// payRow is a payments row as the driver sees it.
type payRow struct {
	key, payer, payee                string
	amount                           int64
	currency, target, desc, ref      string
	settledMinor                     sql.NullInt64
	settledCur, qFrom, qTo, qRate    sql.NullString
	qAsOf                            sql.NullInt64
	bank                             string
	started                          int64
	state, reason, errText           string
	retryAfter                       int64
	transfer                         string
	qFallback, qAge                  int64
	claimToken, claimOwner           sql.NullString
	claimExpires                     sql.NullInt64
	checks, lastWait, nextCheck, log int64
	refused                          string // JSON array, or '' for none
	crc                              int64
	outbox                           sql.NullInt64 // read only: see selectCols
}

// dest is where a row of selectCols is scanned.
func (r *payRow) dest() []any {
	return []any{&r.key, &r.payer, &r.payee, &r.amount, &r.currency, &r.target, &r.desc, &r.ref,
		&r.settledMinor, &r.settledCur, &r.qFrom, &r.qTo, &r.qRate, &r.qAsOf, &r.bank, &r.started, &r.state,
		&r.reason, &r.errText, &r.retryAfter, &r.transfer, &r.qFallback, &r.qAge, &r.claimToken, &r.claimOwner,
		&r.claimExpires, &r.checks, &r.lastWait, &r.nextCheck, &r.log, &r.refused, &r.crc, &r.outbox}
}

// args are the values of payCols.
func (r *payRow) args() []any {
	return []any{r.key, r.payer, r.payee, r.amount, r.currency, r.target, r.desc, r.ref,
		r.settledMinor, r.settledCur, r.qFrom, r.qTo, r.qRate, r.qAsOf, r.bank, r.started, r.state,
		r.reason, r.errText, r.retryAfter, r.transfer, r.qFallback, r.qAge, r.claimToken, r.claimOwner,
		r.claimExpires, r.checks, r.lastWait, r.nextCheck, r.log, r.refused, r.crc}
}

// sum is the checksum of everything but crc itself.
func (r *payRow) sum() int64 {
	var scratch [512]byte
	c := newChecksum(scratch[:])
	c.str(r.key, r.payer, r.payee).i64(r.amount).str(r.currency, r.target, r.desc, r.ref)
	c.ni64(r.settledMinor).nstr(r.settledCur, r.qFrom, r.qTo, r.qRate).ni64(r.qAsOf)
	c.str(r.bank).i64(r.started).str(r.state, r.reason, r.errText).i64(r.retryAfter).str(r.transfer)
	c.i64(r.qFallback, r.qAge).nstr(r.claimToken, r.claimOwner).ni64(r.claimExpires)
	c.i64(r.checks, r.lastWait, r.nextCheck, r.log)
	if r.refused != "" { // absent from rows of schema version 1
		c.str(r.refused)
	}
	return c.value()
}

func encodeRecord(rec store.Record) payRow {
	q := rec.Request
	r := payRow{key: q.IdempotencyKey, payer: string(q.Payer), payee: string(q.Payee), amount: q.Amount.Minor(),
		currency: q.Amount.Currency().Code(), desc: q.Description, ref: q.Reference, bank: rec.Bank,
		started: b2i(rec.Started), state: string(rec.Result.State), reason: rec.Result.Reason, errText: rec.Result.Error,
		retryAfter: int64(rec.Result.RetryAfter), transfer: rec.Result.TransferID,
		qFallback: b2i(rec.Result.QuoteFallback), qAge: int64(rec.Result.QuoteAge), checks: int64(rec.Checks),
		lastWait: int64(rec.LastWait), nextCheck: unixNano(rec.NextCheck), log: int64(rec.Log)}
	if q.TargetCurrency.Known() {
		r.target = q.TargetCurrency.Code()
	}
	if s, _, ok := rec.Settlement(); ok {
		r.settledMinor = sql.NullInt64{Int64: s.Minor(), Valid: true}
		r.settledCur = sql.NullString{String: s.Currency().Code(), Valid: true}
	}
	if qt := rec.Quote; qt != nil {
		r.qFrom = sql.NullString{String: qt.From.Code(), Valid: true}
		r.qTo = sql.NullString{String: qt.To.Code(), Valid: true}
		r.qRate = sql.NullString{String: fmt.Sprintf("%d/%d", qt.Rate.Num(), qt.Rate.Den()), Valid: true}
		r.qAsOf = sql.NullInt64{Int64: unixNano(qt.AsOf), Valid: true}
	}
	if len(rec.Refused) > 0 {
		b, _ := json.Marshal(rec.Refused) // a []string always marshals
		r.refused = string(b)
	}
	if c := rec.Claim; c.Held() {
		r.claimToken = sql.NullString{String: c.Token, Valid: true}
		r.claimOwner = sql.NullString{String: c.Owner, Valid: true}
		r.claimExpires = sql.NullInt64{Int64: unixNano(c.Expires), Valid: true}
	}
	r.crc = r.sum()
	return r
}

// decode checks the row's checksum and turns it into a record; an error
// matches store.ErrDamaged.
func (r *payRow) decode() (store.Record, error) {
	if r.crc != r.sum() {
		return store.Record{}, fmt.Errorf("%w: payment %q: checksum mismatch", store.ErrDamaged, r.key)
	}
	var d decoder
	req := payments.PaymentRequest{IdempotencyKey: r.key, Payer: payments.AccountID(r.payer),
		Payee: payments.AccountID(r.payee), Amount: payments.New(r.amount, d.currency(r.currency)),
		Description: r.desc, Reference: r.ref}
	if r.target != "" {
		req.TargetCurrency = d.currency(r.target)
	}
	rec := store.Record{Request: req, Bank: r.bank, Started: r.started == 1, Checks: int(r.checks),
		LastWait: time.Duration(r.lastWait), NextCheck: fromUnixNano(r.nextCheck), Log: store.LogState(r.log),
		Result: store.Result{State: store.State(r.state), Reason: r.reason, Error: r.errText,
			RetryAfter: time.Duration(r.retryAfter), TransferID: r.transfer, QuoteFallback: r.qFallback == 1,
			QuoteAge: time.Duration(r.qAge)}}
	if r.settledMinor.Valid {
		rec.Settled = payments.New(r.settledMinor.Int64, d.currency(r.settledCur.String))
	}
	if r.qFrom.Valid {
		rec.Quote = &payments.Quote{From: d.currency(r.qFrom.String), To: d.currency(r.qTo.String),
			Rate: d.rate(r.qRate.String), AsOf: fromUnixNano(r.qAsOf.Int64)}
	}
	if r.refused != "" {
		d.refused(r.refused, &rec.Refused)
	}
	if rec.Log == store.Queued && !r.outbox.Valid {
		rec.Log = store.Delivered
	} else if rec.Log == store.Queued && r.outbox.Int64 == int64(store.SetAside) {
		rec.Log = store.SetAside
	}
	if r.claimToken.Valid {
		rec.Claim = store.Claim{Token: r.claimToken.String, Owner: r.claimOwner.String, Expires: fromUnixNano(r.claimExpires.Int64)}
	}
	if d.err != nil || !rec.Result.State.Valid() {
		return store.Record{}, fmt.Errorf("%w: payment %q: unreadable record (%v)", store.ErrDamaged, r.key, d.err)
	}
	return rec, nil
}

// entryRow is an outbox row as the driver sees it (all but seq).
type entryRow struct {
	id, transfer, payer, payee string
	amount                     int64
	currency                   string
	creditedMinor              sql.NullInt64
	creditedCur                sql.NullString
	at                         int64
	leaseOwner                 sql.NullString
	leaseExpires               sql.NullInt64
	refusedReason              sql.NullString
	refusedAt                  sql.NullInt64
	crc                        int64
}

const entryCols = `payment_id, transfer_id, payer, payee, amount_minor, currency, credited_minor, credited_currency,
	at, lease_owner, lease_expires, refused_reason, refused_at, crc`

func (r *entryRow) dest() []any {
	return []any{&r.id, &r.transfer, &r.payer, &r.payee, &r.amount, &r.currency, &r.creditedMinor, &r.creditedCur,
		&r.at, &r.leaseOwner, &r.leaseExpires, &r.refusedReason, &r.refusedAt, &r.crc}
}

func (r *entryRow) args() []any {
	return []any{r.id, r.transfer, r.payer, r.payee, r.amount, r.currency, r.creditedMinor, r.creditedCur,
		r.at, r.leaseOwner, r.leaseExpires, r.refusedReason, r.refusedAt, r.crc}
}

func (r *entryRow) sum() int64 {
	var scratch [256]byte
	c := newChecksum(scratch[:])
	c.str(r.id, r.transfer, r.payer, r.payee).i64(r.amount).str(r.currency).ni64(r.creditedMinor).nstr(r.creditedCur)
	c.i64(r.at).nstr(r.leaseOwner).ni64(r.leaseExpires).nstr(r.refusedReason).ni64(r.refusedAt)
	return c.value()
}

func encodeEntry(e payments.Entry) entryRow {
	r := entryRow{id: e.PaymentID, transfer: e.TransferID, payer: string(e.Payer), payee: string(e.Payee),
		amount: e.Amount.Minor(), currency: e.Amount.Currency().Code(), at: unixNano(e.At)}
	if e.Credited.Currency().Known() {
		r.creditedMinor = sql.NullInt64{Int64: e.Credited.Minor(), Valid: true}
		r.creditedCur = sql.NullString{String: e.Credited.Currency().Code(), Valid: true}
	}
	r.crc = r.sum()
	return r
}

func (r *entryRow) decode() (payments.Entry, error) {
	if r.crc != r.sum() {
		return payments.Entry{}, fmt.Errorf("%w: log entry of payment %q: checksum mismatch", store.ErrDamaged, r.id)
	}
	var d decoder
	e := payments.Entry{PaymentID: r.id, TransferID: r.transfer, Payer: payments.AccountID(r.payer),
		Payee: payments.AccountID(r.payee), Amount: payments.New(r.amount, d.currency(r.currency)), At: fromUnixNano(r.at)}
	if r.creditedMinor.Valid {
		e.Credited = payments.New(r.creditedMinor.Int64, d.currency(r.creditedCur.String))
	}
	if d.err != nil {
		return payments.Entry{}, fmt.Errorf("%w: log entry of payment %q: unreadable (%v)", store.ErrDamaged, r.id, d.err)
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

func (d *decoder) refused(s string, to *[]string) {
	if err := json.Unmarshal([]byte(s), to); err != nil && d.err == nil {
		d.err = fmt.Errorf("refused banks: %w", err)
	}
}

func (d *decoder) rate(s string) payments.Rate {
	r, err := payments.ParseRate(s)
	if err != nil && d.err == nil {
		d.err = err
	}
	return r
}

// checksum is a CRC-32 of length-prefixed fields, so that moving bytes
// from one field to the next changes it. The fields are gathered in buf
// and summed at once (the same CRC as summing them one by one), so that a
// row costs no allocation for its checksum.
type checksum struct{ buf []byte }

func newChecksum(scratch []byte) checksum { return checksum{buf: scratch[:0]} }

func (c *checksum) value() int64 { return int64(crc32.ChecksumIEEE(c.buf)) }

func (c *checksum) str(ss ...string) *checksum {
	for _, s := range ss {
		c.buf = binary.AppendUvarint(c.buf, uint64(len(s)))
		c.buf = append(c.buf, s...)
	}
	return c
}

func (c *checksum) i64(vs ...int64) *checksum {
	for _, v := range vs {
		c.buf = append(c.buf, 8)
		c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
	}
	return c
}

func (c *checksum) nstr(vs ...sql.NullString) *checksum {
	for _, v := range vs {
		c.i64(b2i(v.Valid)).str(v.String)
	}
	return c
}

func (c *checksum) ni64(vs ...sql.NullInt64) *checksum {
	for _, v := range vs {
		c.i64(b2i(v.Valid), v.Int64)
	}
	return c
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// unixNano stores the zero time as 0 (UnixNano of the zero time is not
// defined) and any other as nanoseconds since 1970, UTC.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
