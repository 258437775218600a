package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

// ErrUnknownPayment is matched (errors.Is) by the error [Gateway.Lookup]
// returns for a key the store does not hold.
var ErrUnknownPayment = errors.New("gateway: unknown payment")

// Gateway settles payments through the bank, FX and log of its [Config],
// each behind its own pipeline of policies, and remembers them in its
// store. Build it with [New] and stop it with [Gateway.Close]; it is safe
// for concurrent use by any number of goroutines. The zero value is not
// usable.
type Gateway struct {
	s       *settings
	store   store.Store
	router  *router // the acquirers, and the order a payment tries them in
	fx      *fxPath
	log     *logPath
	checker *health.Checker // nil when no dependency can be probed

	reconcileWait backoff.Strategy // spacing of a pending payment's checks
	recovery      Recovery

	ctx    context.Context // cancelled by Close: ends the loops and their work in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup
	later  laterWrites // pending outcomes Pay answered before recording
	once   sync.Once
}

// newAcquirers builds each acquirer's pipelines and the router over them.
func newAcquirers(s *settings) (*router, error) {
	acqs := make([]*acquirer, len(s.acquirers))
	for i, a := range s.acquirers {
		bp, err := newBankPath(s, a)
		if err != nil {
			return nil, err
		}
		acqs[i] = &acquirer{name: a.Name, index: i, weight: a.Weight, path: bp}
	}
	return newRouter(acqs), nil
}

// Recovery is what a gateway found in its store when it started: the
// claims of its own earlier run that it ended, the payments left pending
// and the log entries left queued (which it then resolves and replays),
// and any damage the store reported. It is plain data.
type Recovery struct {
	Instance      string   `json:"instance"`
	ExpiredClaims int      `json:"expired_claims"`
	Pending       int      `json:"pending"`
	Queued        int      `json:"queued"`
	Problems      []string `json:"problems,omitempty"`
}

// New builds the gateway's pipelines, recovers what an earlier run left in
// the store (see [Recovery]), starts its health checks, reconciler and
// outbox replayer, and returns it; or an error naming what is wrong with
// cfg — a *resilience.ConfigError for each bad field — or with the store.
func New(cfg Config) (*Gateway, error) {
	s, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	g := &Gateway{s: s, store: s.Store}
	if g.router, err = newAcquirers(s); err != nil {
		return nil, err
	}
	if g.fx, err = newFXPath(s); err != nil {
		return nil, err
	}
	if g.log, err = newLogPath(s); err != nil {
		return nil, err
	}
	if g.reconcileWait, err = backoff.NewExponential(backoff.ExponentialConfig{Initial: s.ReconcileInterval,
		Max: s.ReconcileMaxInterval, Jitter: backoff.EqualJitter, Source: s.split()}); err != nil {
		return nil, err
	}
	if g.checker, err = newChecker(s); err != nil {
		return nil, err
	}
	g.router.checker = g.checker
	if err := g.recover(context.Background()); err != nil {
		return nil, err
	}
	if g.checker != nil {
		if err := g.checker.Start(); err != nil {
			return nil, err
		}
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.wg.Add(2)
	go g.reconcileLoop()
	go g.replayLoop()
	return g, nil
}

// recover ends the claims of this Instance's earlier run, so that its
// unfinished payments are resolved now rather than when the claims expire,
// and reports what the store holds. The loops started next reconcile the
// pending payments and replay the outbox at once.
func (g *Gateway) recover(ctx context.Context) error {
	n, err := g.store.Expire(ctx, g.s.Instance)
	if err != nil {
		return fmt.Errorf("gateway: recovering the store: %w", err)
	}
	st, err := g.store.Stats(ctx)
	if err != nil {
		return fmt.Errorf("gateway: reading the store: %w", err)
	}
	g.recovery = Recovery{Instance: g.s.Instance, ExpiredClaims: n, Pending: st.Pending, Queued: st.Outbox,
		Problems: st.Problems}
	if n > 0 || st.Pending > 0 || st.Outbox > 0 {
		g.s.Logger.Info("gateway: resuming", "instance", g.s.Instance, "expired_claims", n, "pending", st.Pending, "queued", st.Outbox)
	}
	for _, p := range st.Problems {
		g.s.Logger.Warn("gateway: the store reports damage", "problem", p)
	}
	return nil
}

// Close stops the health checks, the reconciler and the outbox replayer and
// waits for them, and for the store writes of pending outcomes that
// answered calls of Pay left running. Payments still pending stay so in
// the store, and queued log entries stay queued, for the next gateway
// started on it. Close does not close a store given in [Config.Store];
// calls of Pay still running finish on their own.
func (g *Gateway) Close() {
	g.once.Do(func() {
		if g.cancel != nil {
			g.cancel()
		}
		if g.checker != nil {
			g.checker.Stop()
		}
		g.wg.Wait()
		g.later.wait()
	})
}

// Registry returns the registry holding the gateway's breakers.
func (g *Gateway) Registry() *breaker.Registry { return g.s.Registry }

// Store returns the gateway's store: the one given in [Config.Store], or
// the in-memory one it made.
func (g *Gateway) Store() store.Store { return g.store }

// Instance returns the name under which the gateway claims payments (see
// [Config.Instance]).
func (g *Gateway) Instance() string { return g.s.Instance }

// Recovery returns what the gateway found in its store when it started.
func (g *Gateway) Recovery() Recovery {
	r := g.recovery
	r.Problems = append([]string(nil), r.Problems...)
	return r
}

// Lookup returns the current result of the payment with the given
// idempotency key, from the store: a pending payment shows the state the
// reconciler moved it to. The error matches [ErrUnknownPayment] for a key
// the store does not hold; any other error is the store's.
func (g *Gateway) Lookup(ctx context.Context, key string) (Result, error) {
	rec, err := g.store.Lookup(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Result{}, fmt.Errorf("%w %q", ErrUnknownPayment, key)
	case err != nil:
		return Result{}, err
	}
	return resultOf(rec), nil
}
