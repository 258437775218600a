package sqlguard

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/riprap-go/riprap/resilience"
)

// errAbandoned is what an attempt gets when it starts, or ends with a
// result nobody can take any more, after the call it belongs to returned.
var errAbandoned = errors.New("sqlguard: attempt outlived its call")

// Idempotent returns a copy of ctx that marks the statements run with it as
// safe to run twice: [Config.Retry] may then repeat an Exec or Query whose
// error [Config.Retryable] accepts.
//
// The design rule of this module is that per-call arguments travel in
// closures, never in context values. A marker is the exception here because
// database/sql offers no other way from the call site to the driver: the
// driver sees only the context, the query and its arguments, and an extra
// argument would reach the database. The marker is a property of the
// request, like its deadline, not data the statement computes with, and its
// absence is the safe default: an unmarked statement is never retried.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// IsIdempotent reports whether ctx was marked by [Idempotent].
func IsIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

type idempotentKey struct{}

// retryRule says when a call may go through Config.Retry.
type retryRule uint8

const (
	retryNever      retryRule = iota // a Commit, anything inside a transaction
	retryConnect                     // a failed Connect: nothing was sent
	retryEffectFree                  // Prepare, BeginTx, Ping: Retryable errors
	retryStatement                   // Exec, Query: Retryable errors, marked Idempotent
)

// guards is a Config made ready: chains built once, shared by every
// connection of a pool.
type guards struct {
	chain     resilience.Chain // Config.Guards
	retry     resilience.Chain // Config.Retry alone
	hasRetry  bool
	retryable func(error) bool
	classify  resilience.ErrorClassifier
}

func newGuards(cfg Config) *guards {
	g := &guards{chain: resilience.NewChain(cfg.Guards...), retryable: cfg.Retryable, classify: Classify}
	if cfg.Retry != nil {
		g.retry, g.hasRetry = resilience.NewChain(cfg.Retry), true
	}
	if user := cfg.Classify; user != nil {
		g.classify = func(ctx context.Context, err error) resilience.Outcome {
			if o := user(ctx, err); o != resilience.Unclassified {
				return o
			}
			return Classify(ctx, err)
		}
	}
	return g
}

// run makes one call to the driver, fn, through the guards (and the retry
// when rule allows it) and returns the error the caller should see.
func (g *guards) run(ctx context.Context, rule retryRule, fn func(context.Context) error) error {
	attempt := func(ctx context.Context) error { return g.judge(ctx, rule, fn(ctx)) }
	if !g.hasRetry || !g.mayRetry(ctx, rule) {
		return reveal(g.chain.Run(ctx, attempt))
	}
	// The retry sees nil for an error it must not repeat, so that any retry
	// guard stops there whatever its own rules; the error is kept aside and
	// returned once the retry is done.
	var kept error
	err := g.retry.Run(ctx, func(ctx context.Context) error {
		err := g.chain.Run(ctx, attempt)
		if err != nil && !g.worthRetrying(ctx, rule, err) {
			kept = err
			return nil
		}
		kept = nil
		return err
	})
	if err == nil {
		err = kept
	}
	return reveal(err)
}

// mayRetry decides before the call whether its retry rule can apply.
func (g *guards) mayRetry(ctx context.Context, rule retryRule) bool {
	switch rule {
	case retryConnect:
		return true
	case retryEffectFree:
		return g.retryable != nil
	case retryStatement:
		return g.retryable != nil && IsIdempotent(ctx)
	}
	return false
}

// worthRetrying decides after an attempt whether its error may be retried.
// A rejection by a guard never is: the breaker said no, asking again at
// once is certain to hear no again. Nor is a bad connection, but for a
// Connect: the connection that failed would fail again, and database/sql
// re-runs the call on a fresh one.
func (g *guards) worthRetrying(ctx context.Context, rule retryRule, err error) bool {
	switch {
	case resilience.IsRejected(err), ctx.Err() != nil:
		return false
	case rule == retryConnect:
		return resilience.DefaultOutcome(ctx, err) == resilience.Failure
	case errors.Is(err, driver.ErrBadConn):
		return false
	}
	return g.retryable(reveal(err))
}

// judge classifies a driver error and hands the guards the verdict: as the
// error itself when [resilience.DefaultOutcome] would agree, otherwise
// wrapped in a [*resilience.Judged]. A failed Connect is judged as
// DefaultOutcome judges it, a failure unless the caller went away: whatever
// its words, there is no connection to answer anything.
func (g *guards) judge(ctx context.Context, rule retryRule, err error) error {
	if err == nil || rule == retryConnect {
		return err
	}
	o := g.classify(ctx, err)
	if o == resilience.Unclassified || o == resilience.DefaultOutcome(ctx, err) {
		return err
	}
	return &resilience.Judged{Outcome: o, Err: err}
}

// reveal turns the guards' error back into the driver's. driver.ErrSkip is
// returned as the very sentinel: database/sql compares it with ==.
func reveal(err error) error {
	if j, ok := err.(*resilience.Judged); ok && j.Err != nil {
		err = j.Err
	}
	if err != nil && err != driver.ErrSkip && errors.Is(err, driver.ErrSkip) {
		return driver.ErrSkip
	}
	return err
}
