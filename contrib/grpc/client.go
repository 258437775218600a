package grpcx

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// ClientConfig configures [NewClient]. Its zero value makes interceptors
// that only classify and pass calls through; each field adds a policy.
type ClientConfig struct {
	// Breakers holds the circuit breakers, one per key (see BreakerKey),
	// shared with every other part of the program that uses the registry.
	// A breaker already registered under a key is used as it is (one bound
	// to a health check, say); a missing one is made from Breaker. Nil
	// means no breaker.
	Breakers *breaker.Registry
	// Breaker configures the breakers made in Breakers; each gets its key
	// as Name. Its Classifier is not consulted: the interceptors judge
	// each call with Classifier and hand the breaker the verdict.
	Breaker breaker.Config
	// BreakerKey names the breaker of a full method name
	// ("/pkg.Service/Method"); nil means [ByService]. A method whose key is
	// "" has no breaker. Include the backend in the key when one registry
	// serves connections to several backends.
	BreakerKey func(fullMethod string) string

	// Retry runs a failed call again, for the methods Retryable allows.
	// The pushback trailer of a failed attempt (see [PushbackKey]) is
	// honoured as a Retry-After hint, capped by the retry's MaxRetryAfter;
	// a negative pushback stops the retries. Nil means no retry.
	Retry *backoff.Retry
	// Retryable says which methods are safe to repeat: idempotent ones,
	// or ones whose requests carry an idempotency key. Nil means none, the
	// only safe default, since gRPC cannot tell. See [Methods].
	Retryable func(fullMethod string) bool

	// AttemptTimeout bounds each attempt of a unary call, so that a
	// server that hangs counts as a failure and is retried; zero means
	// none. It does not apply to streams, which may rightly run for long.
	AttemptTimeout time.Duration
	// Limit admits each attempt of a unary call and the start of each
	// stream: a *ratelimit.Limiter, a ratelimit.ByKey guard, a bulkhead
	// (which then bounds unary calls in flight and stream starts), or any
	// other guard. Nil means none.
	Limit resilience.Guard
	// Classifier judges each call's error for the breaker and the retry;
	// nil means [Classify].
	Classifier resilience.ErrorClassifier
	// Clock times AttemptTimeout; nil means the real clock.
	Clock clock.Clock
}

// Client holds the client-side policies of a gRPC connection and makes its
// interceptors. Each method gets its own prebuilt chain of guards, made
// once at its first call, and every call runs through it with no
// rebuilding:
//
//	retry (where Retryable) → breaker → limit → attempt timeout → call
//
// Build a Client with [NewClient]; the zero Client passes calls through
// unguarded, and a nil *Client fails them with Internal. A Client is safe
// for concurrent use, and one Client may serve several connections.
type Client struct {
	cfg     ClientConfig
	timeout *timeout.Timeout
	plans   sync.Map // full method name → *plan
}

// plan is what a method's calls run through.
type plan struct {
	chain    resilience.Chain // unary calls
	streamRT resilience.Chain // stream attempts: the retry alone, or nothing
	admit    resilience.Chain // stream starts: the limit alone, or nothing
	br       *breaker.Breaker // nil: no breaker
	err      error            // set when the breaker could not be had
}

// NewClient returns a client configured by cfg, or the
// [*resilience.ConfigError] of a Breaker or AttemptTimeout that would be
// refused.
func NewClient(cfg ClientConfig) (*Client, error) {
	c := &Client{cfg: cfg}
	if cfg.Classifier == nil {
		c.cfg.Classifier = Classify
	}
	if cfg.Breakers != nil {
		probe := cfg.Breaker
		probe.Listeners = nil // a trial build must not reach anybody
		if _, err := breaker.New(probe); err != nil {
			return nil, err
		}
	}
	if cfg.AttemptTimeout != 0 {
		t, err := timeout.New(timeout.Config{Name: "grpc attempt", Timeout: cfg.AttemptTimeout, Clock: cfg.Clock})
		if err != nil {
			return nil, err
		}
		c.timeout = t
	}
	return c, nil
}

// DialOptions returns the unary and stream interceptors as options for
// grpc.NewClient. They are chained after interceptors given earlier.
func (c *Client) DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(c.UnaryInterceptor()),
		grpc.WithChainStreamInterceptor(c.StreamInterceptor()),
	}
}

// UnaryInterceptor returns the interceptor that runs each unary call
// through its method's chain. The caller gets the status the server (or
// the transport) answered with, unchanged, after the last attempt; a call
// a local policy refused gets an Unavailable status whose details say
// which policy refused and when to try again (see [RejectionStatus]), and
// which is also a riprap rejection ([resilience.IsRejected]).
func (c *Client) UnaryInterceptor() grpc.UnaryClientInterceptor {
	return c.unary
}

// errNilClient fails the calls through the interceptors of a nil *Client:
// a programmer's error, reported on each call rather than by a panic.
var errNilClient = status.Error(codes.Internal, "grpcx: nil *Client")

func (c *Client) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if c == nil {
		return errNilClient
	}
	p := c.plan(method)
	if p.err != nil {
		return status.Error(codes.Internal, p.err.Error())
	}
	if p.chain.Len() == 0 { // no policy for this method: nothing to judge for
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	var trailer metadata.MD
	if p.br != nil || c.cfg.Retry != nil {
		// The pushback trailer is read on every attempt; the caller's own
		// Trailer option, if any, still gets the trailer too.
		opts = append(opts[:len(opts):len(opts)], grpc.Trailer(&trailer))
	}
	err := p.chain.Run(ctx, func(actx context.Context) error {
		trailer = nil
		err := invoker(actx, method, req, reply, cc, opts...)
		return c.judge(ctx, err, trailer)
	})
	return callerError(err)
}

// judge hands an attempt's error to the guards with the classifier's
// verdict, which always wins over their own, and the server's pushback.
// ctx is the caller's: the classifier tells the caller's cancellation from
// the attempt timeout's deadline by it.
func (c *Client) judge(ctx context.Context, err error, trailer metadata.MD) error {
	if err == nil {
		return nil
	}
	classify := c.cfg.Classifier
	if classify == nil { // a zero Client
		classify = Classify
	}
	o := classify(ctx, err)
	if o == resilience.Unclassified {
		o = resilience.DefaultOutcome(ctx, err)
	}
	return &resilience.Judged{Outcome: o, Err: withPushback(err, trailer)}
}

// plan returns the chain of method, making it at its first call.
func (c *Client) plan(method string) *plan {
	if p, ok := c.plans.Load(method); ok {
		return p.(*plan)
	}
	p, _ := c.plans.LoadOrStore(method, c.newPlan(method))
	return p.(*plan)
}

func (c *Client) newPlan(method string) *plan {
	p := &plan{}
	var guards []resilience.Guard
	retry := c.cfg.Retry != nil && c.cfg.Retryable != nil && c.cfg.Retryable(method)
	if retry {
		guards = append(guards, c.cfg.Retry)
		p.streamRT = resilience.NewChain(c.cfg.Retry)
	}
	if c.cfg.Breakers != nil {
		key := ByService(method)
		if c.cfg.BreakerKey != nil {
			key = c.cfg.BreakerKey(method)
		}
		if key != "" {
			br, err := c.breakerFor(key)
			if err != nil {
				p.err = fmt.Errorf("grpcx: breaker for %s: %w", method, err)
				return p
			}
			p.br = br
			guards = append(guards, br)
		}
	}
	if c.cfg.Limit != nil {
		guards = append(guards, c.cfg.Limit)
		p.admit = resilience.NewChain(c.cfg.Limit)
	}
	if c.timeout != nil {
		guards = append(guards, c.timeout)
	}
	p.chain = resilience.NewChain(guards...)
	return p
}

func (c *Client) breakerFor(key string) (*breaker.Breaker, error) {
	if br, ok := c.cfg.Breakers.Get(key); ok {
		return br, nil
	}
	return c.cfg.Breakers.GetOrCreate(key, c.cfg.Breaker)
}

// ByService is a BreakerKey giving every method of a service one breaker,
// named by the service ("pkg.Service"): the usual choice, since the methods
// of a service share its servers.
func ByService(fullMethod string) string {
	s := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

// ByMethod is a BreakerKey giving each method its own breaker, named by the
// full method ("/pkg.Service/Method"), for a service whose methods fail
// independently (one reads a cache, another a database).
func ByMethod(fullMethod string) string { return fullMethod }

// Methods returns a Retryable that allows exactly the named methods, given
// as full method names ("/pkg.Service/Method", the leading slash optional)
// or as services ("pkg.Service"), which allow all their methods.
func Methods(names ...string) func(fullMethod string) bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[strings.TrimPrefix(n, "/")] = true
	}
	return func(fullMethod string) bool {
		return set[strings.TrimPrefix(fullMethod, "/")] || set[ByService(fullMethod)]
	}
}
