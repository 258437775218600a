package dst

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// errCrashed is what every call of a crashed gateway gets from the store
// and the network: the process is gone, nothing it does reaches anything.
var errCrashed = errors.New("dst: the gateway crashed")

// storeShim is the store as one gateway (one incarnation) sees it: the
// world's durable store, each call taking its ticket, refused once the
// gateway crashed. It forwards every call unchanged but DuePending: the
// claims taken at one instant expire 1ns apart, oldest check first, within
// a call and across calls (the reconciler claims as workers free up,
// several times an instant), so that the goroutines the reconciler starts
// for them take distinct tickets (see seqClock).
type storeShim struct {
	store.Store
	r   *runner
	inc *incarnation

	mu      sync.Mutex // protects claimAt and claimed
	claimAt time.Time  // the instant of the latest claims
	claimed int        // claims taken at claimAt so far
}

var _ store.Store = (*storeShim)(nil)

// enter takes the call's ticket; it fails when the gateway has crashed,
// before or while waiting.
func (s *storeShim) enter(ctx context.Context, op string, args ...string) error {
	if s.inc.dead() {
		return errCrashed
	}
	s.r.seq.enter("s/" + op + "/" + labelOf(ctx) + "/" + strings.Join(args, ","))
	if s.inc.dead() {
		return errCrashed
	}
	return nil
}

func (s *storeShim) Claim(ctx context.Context, req payments.PaymentRequest, lease store.Lease) (store.ClaimResult, error) {
	if err := s.enter(ctx, "claim", req.IdempotencyKey); err != nil {
		return store.ClaimResult{}, err
	}
	return s.Store.Claim(ctx, req, lease)
}

func (s *storeShim) SaveSettlement(ctx context.Context, key, token string, settled payments.Money, quote *payments.Quote) error {
	if err := s.enter(ctx, "settle", key); err != nil {
		return err
	}
	return s.Store.SaveSettlement(ctx, key, token, settled, quote)
}

func (s *storeShim) MarkStarted(ctx context.Context, key, token, bank string) error {
	if err := s.enter(ctx, "start", key); err != nil {
		return err
	}
	return s.Store.MarkStarted(ctx, key, token, bank)
}

func (s *storeShim) MarkRefused(ctx context.Context, key, token, bank string) error {
	if err := s.enter(ctx, "refusedby", key, bank); err != nil {
		return err
	}
	return s.Store.MarkRefused(ctx, key, token, bank)
}

func (s *storeShim) Finish(ctx context.Context, key, token string, r store.Result, entry *payments.Entry) error {
	if err := s.enter(ctx, "finish", key); err != nil {
		return err
	}
	return s.Store.Finish(ctx, key, token, r, entry)
}

func (s *storeShim) Postpone(ctx context.Context, key, token string, next time.Time, wait time.Duration) error {
	if err := s.enter(ctx, "postpone", key); err != nil {
		return err
	}
	return s.Store.Postpone(ctx, key, token, next, wait)
}

func (s *storeShim) DuePending(ctx context.Context, lease store.Lease, dueBy time.Time, limit int) ([]store.Record, error) {
	if err := s.enter(ctx, "due", fmt.Sprint(limit)); err != nil {
		return nil, err
	}
	recs, err := s.Store.DuePending(ctx, lease, dueBy, limit)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !lease.Now.Equal(s.claimAt) {
		s.claimAt, s.claimed = lease.Now, 0
	}
	for i := range recs {
		recs[i].Claim.Expires = recs[i].Claim.Expires.Add(-time.Duration(s.claimed))
		s.claimed++
	}
	return recs, err
}

func (s *storeShim) Expire(ctx context.Context, owner string) (int, error) {
	if err := s.enter(ctx, "expire", owner); err != nil {
		return 0, err
	}
	return s.Store.Expire(ctx, owner)
}

func (s *storeShim) Lookup(ctx context.Context, key string) (store.Record, error) {
	if err := s.enter(ctx, "lookup", key); err != nil {
		return store.Record{}, err
	}
	return s.Store.Lookup(ctx, key)
}

func (s *storeShim) Next(ctx context.Context, lease store.Lease, limit int) ([]payments.Entry, error) {
	if err := s.enter(ctx, "next", fmt.Sprint(limit)); err != nil {
		return nil, err
	}
	return s.Store.Next(ctx, lease, limit)
}

func (s *storeShim) Ack(ctx context.Context, ids ...string) error {
	if err := s.enter(ctx, "ack", fmt.Sprintf("%x", hash64(0, ids...))); err != nil {
		return err
	}
	return s.Store.Ack(ctx, ids...)
}

func (s *storeShim) Refuse(ctx context.Context, id, reason string, at time.Time) error {
	if err := s.enter(ctx, "refuse", id); err != nil {
		return err
	}
	return s.Store.Refuse(ctx, id, reason, at)
}

func (s *storeShim) Refused(ctx context.Context, limit int) ([]store.Refusal, error) {
	if err := s.enter(ctx, "refused", fmt.Sprint(limit)); err != nil {
		return nil, err
	}
	return s.Store.Refused(ctx, limit)
}

func (s *storeShim) Stats(ctx context.Context) (store.Stats, error) {
	if err := s.enter(ctx, "stats"); err != nil {
		return store.Stats{}, err
	}
	return s.Store.Stats(ctx)
}

// Close is the gateway's: the world's store outlives every gateway.
func (s *storeShim) Close() error { return nil }

// seqClock is the gateway's clock: the bubble's time (clock.New reads
// package time, which a synctest bubble fakes), and a ticket on
// WithDeadline. The gateway calls WithDeadline first thing in a payment's
// settle and in each reconciler goroutine, with the claim's expiry: the
// ticket, named after the caller and the deadline, orders the goroutines
// the reconciler starts at once before they reach the bank's breaker.
type seqClock struct {
	clock.Clock
	r   *runner
	inc *incarnation
}

func (c seqClock) WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	if !c.inc.dead() {
		c.r.seq.enter("k/" + labelOf(ctx) + "/" + t.Format(time.RFC3339Nano))
	}
	return c.Clock.WithDeadline(ctx, t)
}
