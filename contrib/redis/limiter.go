package riprapredis

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// ratePolicy is the Policy of a Limiter's rejections and events: it is a
// rate limiter, whatever its store.
const ratePolicy = "ratelimit"

// Limiter is a rate limit shared by a fleet: every instance draws from one
// bucket kept in Redis, by the generic cell rate algorithm (GCRA) in one
// script per decision. Its state is one number per limit, the theoretical
// arrival time; see [ratelimit.Limiter] for the algorithm.
//
// With [LimiterConfig].Lease set, it takes up to Lease tokens per round
// trip and spends them locally until LeaseTTL, for hot paths where a round
// trip per call costs too much. A refusal is remembered until the bucket
// has a token again, so a refused instance does not ask Redis before then.
//
// Redis trouble never blocks or fails a call beyond one Timeout: after a
// failed round trip, decisions are made by [LimiterConfig].Local (or the
// call is admitted, or with FailClosed refused) for DownWait before Redis is
// tried again. An internal [breaker.Breaker] keeps that pace.
//
// A Limiter is a [resilience.Guard] for pipelines of any result type. Build
// one with [NewLimiter]; the zero value is not usable. It runs no goroutine
// and is safe for concurrent use.
type Limiter struct {
	client redis.Scripter
	set    limiterSettings
	down   *breaker.Breaker // opens on a failed round trip: Redis is skipped for DownWait
	local  *ratelimit.Limiter
	disp   *resilience.Dispatcher

	mu           sync.Mutex // protects the fields below
	tokens       int64      // leased tokens left
	expires      time.Time  // when they are dropped
	refusedUntil time.Time  // no token anywhere before then
	refill       chan struct{}
	lastErr      string

	admitted, rejected, roundTrips, fallbacks, errors, leased, expired atomic.Uint64
}

// NewLimiter returns a fleet-wide limiter, or a *[resilience.ConfigError]
// naming the first field that breaks a rule. It does not touch Redis.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	down, err := breaker.New(breaker.Config{
		Name: set.name + "@redis", ConsecutiveFailures: 1,
		OpenWait: set.downWait, MaxOpenWait: max(set.downWait, time.Millisecond), Clock: set.clk,
	})
	if err != nil {
		return nil, err
	}
	l := &Limiter{client: cfg.Client, set: set, down: down, local: cfg.Local}
	if len(cfg.Listeners) > 0 {
		l.disp = resilience.NewDispatcher(cfg.Listeners)
	}
	return l, nil
}

// Name returns the limit's name.
func (l *Limiter) Name() string { return l.set.name }

// Guard admits one call and runs the rest of the pipeline, making *Limiter
// a [resilience.Guard]. A refused call returns [Limiter.Admit]'s rejection
// without running next.
func (l *Limiter) Guard(ctx context.Context, next resilience.Next) error {
	if err := l.Admit(ctx); err != nil {
		return err
	}
	return next.Run(ctx)
}

// Admit takes one token from the fleet's bucket, or returns why not: a
// [resilience.Rejection] matching [ratelimit.ErrLimited] whose RetryAfter
// says when a token is free, or, failing closed while Redis is down, one
// matching [ErrUnavailable]. A call whose context is already done takes no
// token and gets the context's error. A nil *Limiter returns
// [ratelimit.ErrNilLimiter].
func (l *Limiter) Admit(ctx context.Context) error {
	switch {
	case l == nil:
		return ratelimit.ErrNilLimiter
	case ctx.Err() != nil:
		return ctx.Err()
	case l.set.inf:
		l.admitted.Add(1)
		return nil
	}
	for {
		now := l.set.clk.Now()
		l.mu.Lock()
		if now.Before(l.refusedUntil) {
			wait := l.refusedUntil.Sub(now)
			l.mu.Unlock()
			return l.refuse(ratelimit.ErrLimited, wait)
		}
		if l.tokens > 0 && now.Before(l.expires) {
			l.tokens--
			l.mu.Unlock()
			l.admitted.Add(1)
			return nil
		}
		if l.tokens > 0 {
			l.expired.Add(uint64(l.tokens))
			l.tokens = 0
		}
		if l.set.lease == 1 {
			l.mu.Unlock()
			return l.decide(ctx, now, nil)
		}
		if ch := l.refill; ch != nil {
			// One lease in flight serves everybody: wait for it.
			l.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ch := make(chan struct{})
		l.refill = ch
		l.mu.Unlock()
		return l.decide(ctx, now, ch)
	}
}

// decide asks Redis for one token, or for a lease when refill is set (and
// closes refill when done), and falls back to local decisions when Redis
// cannot answer.
func (l *Limiter) decide(ctx context.Context, now time.Time, refill chan struct{}) error {
	granted, retry, err := l.roundTrip(ctx, now)
	l.mu.Lock()
	switch {
	case err != nil:
	case granted > 0:
		l.tokens, l.expires = granted-1, now.Add(l.set.leaseTTL)
	default:
		l.refusedUntil = now.Add(retry)
	}
	if refill != nil {
		l.refill = nil
		close(refill)
	}
	l.mu.Unlock()
	switch {
	case err != nil:
		return l.fallback()
	case granted > 0:
		l.admitted.Add(1)
		return nil
	}
	return l.refuse(ratelimit.ErrLimited, retry)
}

// roundTrip runs the GCRA script through the down breaker. A caller who
// gives up does not waste a lease others wait for, so the command runs
// under the call's values but not its cancellation, bounded by Timeout.
func (l *Limiter) roundTrip(ctx context.Context, now time.Time) (granted int64, retry time.Duration, err error) {
	permit, err := l.down.Allow()
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.set.timeout)
	defer cancel()
	nowArg, partial := "", "0"
	if !l.set.serverTime {
		nowArg = strconv.FormatInt(now.UnixMicro(), 10)
	}
	if l.set.lease > 1 {
		partial = "1"
	}
	l.roundTrips.Add(1)
	res, err := gcraScript.Run(ctx, l.client, []string{l.set.key},
		l.set.intervalUS, l.set.burst, l.set.lease, partial, nowArg).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("riprapredis: rate script answered %v", res)
	}
	permit.DoneErr(ctx, err)
	if err != nil {
		l.errors.Add(1)
		l.mu.Lock()
		l.lastErr = err.Error()
		l.mu.Unlock()
		return 0, 0, err
	}
	if res[0] > 0 {
		l.leased.Add(uint64(res[0]))
	}
	return res[0], time.Duration(max(res[1], 0)) * time.Microsecond, nil
}

// fallback decides without Redis.
func (l *Limiter) fallback() error {
	l.fallbacks.Add(1)
	switch {
	case l.local != nil:
		if l.local.Allow() {
			l.admitted.Add(1)
			return nil
		}
		return l.refuse(ratelimit.ErrLimited, 0)
	case l.set.failClosed:
		return l.refuse(ErrUnavailable, l.set.downWait)
	}
	l.admitted.Add(1)
	return nil
}

func (l *Limiter) refuse(reason error, retryAfter time.Duration) error {
	l.rejected.Add(1)
	err := resilience.Reject(ratePolicy, l.set.name, reason, retryAfter)
	if l.disp.Wants(resilience.EventRejection) {
		l.disp.Emit(resilience.Event{
			Kind: resilience.EventRejection, Policy: ratePolicy, Name: l.set.name,
			Time: l.set.clk.Now(), Err: err,
		})
	}
	return err
}
