package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// maxSendsPerRound bounds how often one round sends an entry the log
// failed: often enough to ride out a log that fails a share of appends at
// random, not so often that an entry the log keeps failing is sent in
// every batch of a long round.
const maxSendsPerRound = 3

// logPath delivers the log entries of succeeded payments, queued in the
// store's outbox by the same transaction that recorded each payment, to
// the transaction log without ever blocking or failing a payment.
//
// One replay round at a time reads the outbox oldest first and sends it in
// batches of up to LogPolicy.BatchSize entries through the log's pipeline
// (breaker → timeout around Log.AppendBatch), with up to
// LogPolicy.MaxInFlight batches in flight. Each batch's results are applied
// as they come: stored entries are acknowledged, entries the log refused
// for good are set aside (Status lists them), and the rest go out again in
// a later batch — so one failed entry never holds up the others. A round
// ends when every entry left has been sent maxSendsPerRound times, when
// the breaker refuses, or when the store fails; rounds run when a payment
// queues an entry, when the log's breaker lets calls through again, and on
// a timer.
//
// Order: batches leave oldest first, but batches in flight overlap and a
// failed entry goes out again after later ones, so the log may store
// entries out of queue order. The log is idempotent by payment ID and a
// payment has exactly one entry, so no order is needed for correctness;
// what is kept is that a payment's entry is never queued before the
// payment is recorded, and never acknowledged before the log stored it.
type logPath struct {
	s       *settings
	store   store.Store
	log     payments.Log
	breaker *breaker.Breaker
	appends resilience.Pipeline[[]error]
	kick    chan struct{} // buffered: a request to replay soon

	// running holds a token while a round runs: one round at a time. A
	// channel rather than a mutex so that a Drain waiting for the round
	// also gives up with its context.
	running chan struct{}
}

// RefusedEntry is a log entry the transaction log refused for good (a
// different entry already stands under its payment ID, or it is invalid),
// shown by its IDs alone: a status page must not spread payers, payees and
// amounts. The entry itself stays in the store for an operator. It is
// plain data.
type RefusedEntry struct {
	PaymentID  string    `json:"payment_id"`
	TransferID string    `json:"transfer_id,omitempty"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

func newLogPath(s *settings) (*logPath, error) {
	lp := &logPath{s: s, store: s.Store, log: s.Log, kick: make(chan struct{}, 1), running: make(chan struct{}, 1)}
	bc := s.LogPolicy.Breaker
	// A log breaker that closes, or lets a probe through, is the moment to
	// replay: the round's first batch is that probe.
	bc.Listeners = append(append(resilience.Listeners(nil), bc.Listeners...), resilience.OnStateChange(func(e resilience.Event) {
		if e.To == breaker.Closed.String() || e.To == breaker.HalfOpen.String() {
			lp.wake()
		}
	}))
	var err error
	if lp.breaker, err = s.breaker("log", bc); err != nil {
		return nil, err
	}
	deadline, err := timeout.New(timeout.Config{Timeout: s.LogPolicy.Timeout, Name: "log",
		Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	lp.appends = resilience.NewPipeline[[]error](append([]resilience.Guard{lp.breaker, deadline}, s.LogPolicy.Inject...)...).WithClassifier(batchOutcome)
	return lp, nil
}

// batchOutcome counts a batch whose every entry failed, though the batch
// call itself succeeded, as one failure of the log: a log that refuses
// everything entry by entry is down. Otherwise the breaker's classifier
// judges the call's error.
func batchOutcome(_ context.Context, results []error, err error) resilience.Outcome {
	if err != nil || len(results) == 0 {
		return resilience.Unclassified
	}
	for _, r := range results {
		if r == nil || payments.IsPermanent(r) {
			return resilience.Unclassified
		}
	}
	return resilience.Failure
}

func (lp *logPath) wake() {
	select {
	case lp.kick <- struct{}{}:
	default:
	}
}

// refusing reports whether the log's breaker refuses every call now: open,
// held open by the log's health check, or forced open. A round then reads
// nothing. Reading the outbox leases its entries (a store write), and
// every payment that queues an entry wakes the replayer: during a log
// outage, rounds that could only be refused cost a store write per
// payment, competing with the payments' own writes — the log was on the
// payments' critical path after all. The breaker's listener wakes the
// replayer when it lets calls through again, and the timer retries.
func (lp *logPath) refusing() bool {
	switch lp.breaker.State() {
	case breaker.Open, breaker.HeldOpen, breaker.ForcedOpen:
		return true
	}
	return false
}

// replay runs one round. With wait false it returns at once when a round
// is running; with wait true it runs one after it, unless ctx ends first.
func (lp *logPath) replay(ctx context.Context, wait bool) {
	if wait {
		select {
		case lp.running <- struct{}{}:
		case <-ctx.Done():
			return
		}
	} else {
		select {
		case lp.running <- struct{}{}:
		default:
			return
		}
	}
	defer func() { <-lp.running }()
	if lp.refusing() {
		return
	}
	(&round{lp: lp, sends: map[string]int{}, done: make(chan sent, lp.s.LogPolicy.MaxInFlight)}).run(ctx)
}

// round is one pass over the outbox.
type round struct {
	lp       *logPath
	sends    map[string]int // entries sent this round and not settled: how often
	inFlight map[string]bool
	capped   int // entries sent maxSendsPerRound times, left for the next round
	batches  int // batches in flight
	done     chan sent
	stop     bool // send no more batches: the breaker refused, the store failed
}

// sent is the answer to one batch.
type sent struct {
	entries []payments.Entry
	results []error
	err     error
}

func (r *round) run(ctx context.Context) {
	r.inFlight = map[string]bool{}
	for {
		for !r.stop && r.batches < r.lp.s.LogPolicy.MaxInFlight && ctx.Err() == nil {
			batch := r.next(ctx)
			if len(batch) == 0 {
				break
			}
			r.send(ctx, batch)
		}
		if r.batches == 0 {
			return
		}
		r.settle(ctx, <-r.done)
	}
}

// next reads the oldest entries of the outbox that are neither in flight
// nor capped, up to a batch.
func (r *round) next(ctx context.Context) []payments.Entry {
	size := r.lp.s.LogPolicy.BatchSize
	lease := store.Lease{Owner: r.lp.s.Instance, Now: r.lp.s.Clock.Now(), TTL: r.lp.s.ClaimTTL}
	entries, err := r.lp.store.Next(ctx, lease, len(r.inFlight)+r.capped+size)
	if err != nil {
		r.stop = true
		return nil
	}
	batch := make([]payments.Entry, 0, min(size, len(entries)))
	for _, e := range entries {
		if len(batch) == size {
			break
		}
		if !r.inFlight[e.PaymentID] && r.sends[e.PaymentID] < maxSendsPerRound {
			batch = append(batch, e)
		}
	}
	return batch
}

func (r *round) send(ctx context.Context, batch []payments.Entry) {
	for _, e := range batch {
		r.inFlight[e.PaymentID] = true
		r.sends[e.PaymentID]++
	}
	r.batches++
	go func() {
		results, err := r.lp.appends.Execute(ctx, func(ctx context.Context) ([]error, error) {
			return r.lp.log.AppendBatch(ctx, batch)
		})
		if err == nil && len(results) != len(batch) {
			err = errMalformedBatch
		}
		r.done <- sent{entries: batch, results: results, err: err}
	}()
}

// settle applies one batch's answer: acknowledges what the log stored,
// sets aside what it refused for good, and leaves the rest queued.
func (r *round) settle(ctx context.Context, s sent) {
	r.batches--
	// The log has answered: record its answer even when the round is being
	// stopped (Close), or a restarted gateway would send stored entries
	// again.
	wctx, cancel := r.lp.s.Clock.WithTimeout(context.WithoutCancel(ctx), r.lp.s.ClaimTTL)
	defer cancel()
	var stored []string
	for i, e := range s.entries {
		delete(r.inFlight, e.PaymentID)
		err := s.err
		if err == nil {
			err = s.results[i]
		}
		switch {
		case err == nil:
			stored = append(stored, e.PaymentID)
			delete(r.sends, e.PaymentID)
		case payments.IsPermanent(err) && !resilience.IsRejected(err) && s.err == nil:
			if r.lp.store.Refuse(wctx, e.PaymentID, err.Error(), r.lp.s.Clock.Now()) != nil {
				r.stop = true
			}
			delete(r.sends, e.PaymentID)
		case r.sends[e.PaymentID] >= maxSendsPerRound:
			r.capped++
		}
	}
	if len(stored) > 0 && r.lp.store.Ack(wctx, stored...) != nil {
		r.stop = true // they stay queued: sent again later, which the log ignores
	}
	if resilience.IsRejected(s.err) || ctx.Err() != nil {
		r.stop = true
	}
}

// errMalformedBatch: a log answered a batch with a wrong number of results;
// nothing is known about its entries.
var errMalformedBatch = errors.New("gateway: the log answered a batch with a wrong number of results")

// refused lists up to limit entries set aside, by their IDs alone.
func (lp *logPath) refused(ctx context.Context, limit int) ([]RefusedEntry, error) {
	rs, err := lp.store.Refused(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]RefusedEntry, len(rs))
	for i, r := range rs {
		out[i] = RefusedEntry{PaymentID: r.Entry.PaymentID, TransferID: r.Entry.TransferID, Reason: r.Reason, At: r.At}
	}
	return out, nil
}
