package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/riprap-go/riprap/resilience/backoff"
)

// defaultClaimTTL is ClaimTTL's default when the work under one claim
// fits well within it; see claimFloor for when it does not.
const defaultClaimTTL = time.Minute

// defaultBankBackoff is a bank's backoff between attempts when its
// BankPolicy has none, drawing its jitter from src (nil: math/rand/v2).
func defaultBankBackoff(src rand.Source) (backoff.Strategy, error) {
	return backoff.NewExponential(backoff.ExponentialConfig{Initial: 10 * time.Millisecond,
		Max: time.Second, Jitter: backoff.FullJitter, Source: src})
}

// split returns a source of its own for one consumer of Config.Rand,
// seeded from it, so that each consumer draws its own reproducible stream
// whatever order the others draw in; nil when Rand is nil.
func (s *settings) split() rand.Source {
	if s.Rand == nil {
		return nil
	}
	return rand.NewPCG(s.Rand.Uint64(), s.Rand.Uint64())
}

// claimWork is the longest a piece of work done under one claim or lease
// can take, and the sum that gives it, for an error message.
type claimWork struct {
	d       time.Duration
	formula string
}

// transferWork bounds one bank's part of a transfer: waiting for the rate
// limiter, then every attempt with the longest wait after it.
func transferWork(a Acquirer, prefix string) claimWork {
	p := a.Policy
	back, _ := backoff.Bound(p.Backoff) // a schedule that reports no bound counts as 0
	per := p.Timeout + back + p.MaxRetryAfter
	return claimWork{
		d: p.MaxWait + time.Duration(p.Attempts)*per,
		formula: fmt.Sprintf("%[1]sMaxWait + %[1]sAttempts × (%[1]sTimeout + the longest %[1]sBackoff delay + %[1]sMaxRetryAfter) = %[2]s + %[3]d × (%[4]s + %[5]s + %[6]s)",
			prefix, p.MaxWait, p.Attempts, p.Timeout, back, p.MaxRetryAfter),
	}
}

// claimFloor is the least ClaimTTL the settings allow: the longest of
//
//   - a payment: its FX quote, then a transfer at every acquirer in turn
//     (a payment fails over under the claim it took);
//   - a reconciler check: a status lookup at one acquirer, then the
//     transfer sent again there;
//   - a log append, under a lease of the same length.
//
// A claim shorter than that ends in the middle of work a working
// dependency is doing — its deadline cuts a transfer or a lookup that the
// bank would have answered in time, and the bank's breakers count the cut
// calls as failures.
func (s *settings) claimFloor() claimWork {
	pay := claimWork{d: s.FXPolicy.Timeout, formula: fmt.Sprintf("FXPolicy.Timeout (%s)", s.FXPolicy.Timeout)}
	var check claimWork
	for i, a := range s.acquirers {
		w := transferWork(a, s.policyPrefix(i))
		pay.d += w.d
		pay.formula += " + " + w.formula
		if c := a.Policy.Timeout + w.d; c > check.d {
			check = claimWork{d: c, formula: fmt.Sprintf("%sTimeout (a status lookup, %s) + %s", s.policyPrefix(i), a.Policy.Timeout, w.formula)}
		}
	}
	floor := pay
	if check.d > floor.d {
		floor = check
	}
	if s.LogPolicy.Timeout > floor.d {
		floor = claimWork{d: s.LogPolicy.Timeout, formula: fmt.Sprintf("LogPolicy.Timeout (%s)", s.LogPolicy.Timeout)}
	}
	floor.formula += " = " + floor.d.String()
	return floor
}

// policyPrefix names the fields of acquirer i's policy in errors.
func (s *settings) policyPrefix(i int) string {
	if len(s.Acquirers) == 0 {
		return "BankPolicy."
	}
	return fmt.Sprintf("Acquirers[%d].Policy.", i)
}

// resolveClaimTTL checks a ClaimTTL that was set against the floor, or
// derives the default from it.
func (s *settings) resolveClaimTTL() error {
	floor := s.claimFloor()
	if s.ClaimTTL == 0 {
		s.ClaimTTL = max(defaultClaimTTL, 2*floor.d)
		return nil
	}
	if s.ClaimTTL < floor.d {
		return configError("ClaimTTL", "must be at least "+strings.TrimSpace(floor.formula)+
			": a shorter claim cuts calls a working bank would answer in time", s.ClaimTTL)
	}
	return nil
}

// MinClaimTTL returns the least ClaimTTL that New accepts with c's other
// settings (see [Config.ClaimTTL] for the rule), or the errors that New
// would return for c's other fields. It draws nothing from c.Rand. A
// simulation drawing a random configuration draws ClaimTTL from here up.
func (c Config) MinClaimTTL() (time.Duration, error) {
	c.ClaimTTL, c.Rand = 0, nil
	s, err := resolve(c)
	if err != nil {
		return 0, err
	}
	return s.claimFloor().d, nil
}

// errClaimEnded is the cause of a claimed payment's context ending with its
// claim.
var errClaimEnded = errors.New("gateway: the payment's claim expired")

// claimContext returns the context of the work done under a claim that
// expires at expires: it ends with ctx, or at expires. The claim's end is a
// cancellation, with errClaimEnded as its cause, not a deadline: the
// gateway itself stops work it may no longer own (another instance may
// take the payment over). That says nothing of the bank, so the bank's
// breakers ignore the calls it cuts, as they ignore a caller that went
// away (see resilience.DefaultOutcome); how long the bank may take is the
// per-attempt timeout's to judge. The caller's own deadline stays a
// deadline. Deadline still reports the earlier of the two, for the
// policies that plan by it (a backoff longer than the time left is not
// waited).
func (g *Gateway) claimContext(ctx context.Context, expires time.Time) (context.Context, context.CancelFunc) {
	timer, stopTimer := g.s.Clock.WithDeadline(ctx, expires) // the gateway's clock times the claim
	work, cancel := context.WithCancelCause(ctx)
	stopAfter := context.AfterFunc(timer, func() {
		if ctx.Err() == nil { // otherwise ctx's own end reaches work
			cancel(errClaimEnded)
		}
	})
	deadline := expires
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return claimCtx{Context: work, deadline: deadline}, func() {
		stopAfter()
		stopTimer()
		cancel(context.Canceled)
	}
}

// claimCtx is a context that reports a deadline it is cancelled at.
type claimCtx struct {
	context.Context
	deadline time.Time
}

func (c claimCtx) Deadline() (time.Time, bool) { return c.deadline, true }
