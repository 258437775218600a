package httpx

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// DefaultMaxKeys is how many keys (hosts, by default) a [Transport] keeps
// policies for when [TransportConfig].MaxKeys is zero.
const DefaultMaxKeys = 1024

// ErrTooManyKeys is the reason of the rejection a [Transport] returns for
// a request whose key would be one more than MaxKeys.
var ErrTooManyKeys = errors.New("httpx: too many keys")

// errNilRequest is returned for a nil request or one without a URL.
var errNilRequest = errors.New("httpx: nil Request or Request.URL")

// TransportConfig configures [NewTransport]. Its zero value is a transport
// over http.DefaultTransport with a breaker per host (the breaker
// package's defaults), three attempts for requests that are safe to
// repeat, jittered exponential backoff from 100ms, Retry-After honoured up
// to 10s, and no timeout, rate limit, concurrency limit or hedging.
type TransportConfig struct {
	// Base sends each attempt; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Key groups requests that share policies (a breaker, a limit, a
	// latency estimate); nil means [HostKey], one group per host. Keys
	// must come from a small set: each is kept until the transport is
	// dropped, up to MaxKeys.
	Key func(*http.Request) string
	// MaxKeys bounds the keys; zero means [DefaultMaxKeys]. A request with
	// a new key past it is refused with a rejection matching
	// [ErrTooManyKeys].
	MaxKeys int

	// Breaker configures the breaker of each key, named after the key;
	// its zero value is the breaker package's defaults.
	Breaker breaker.Config
	// Breakers holds the breakers, so that a status page can list them
	// (see [HealthHandler]); nil means a registry of the transport's own.
	// A breaker already registered under a key's name is shared when its
	// configuration matches Breaker, and refused otherwise.
	Breakers *breaker.Registry

	// Repeatable says whether a request may be sent more than once (by a
	// retry or a hedge); nil means [SafeToRepeat]. A request whose body
	// cannot be sent again (a Body without GetBody) is never repeated.
	Repeatable func(*http.Request) bool
	// MaxAttempts bounds the attempts of a repeatable request, the first
	// included; zero means backoff.DefaultMaxAttempts (3), 1 turns retries
	// off.
	MaxAttempts int
	// Backoff spaces the attempts; nil means the backoff package's default
	// (exponential from 100ms, full jitter).
	Backoff backoff.Strategy
	// MaxRetryAfter caps a server's Retry-After, for the wait before a
	// retry and for a breaker's open wait alike; zero means
	// backoff.DefaultMaxRetryAfter (10s).
	MaxRetryAfter time.Duration
	// Budget, when set, bounds retries and hedges across requests (see
	// backoff.Budget).
	Budget *backoff.Budget

	// FailureStatuses lists the statuses, other than 429 and 503, that are
	// failures: counted by the breaker and retried. Nil means every 5xx but
	// 501 and 505, which no retry can fix; an empty, non-nil list makes
	// 429 and 503 the only ones. Other statuses are answers. Codes must be
	// in [100, 599].
	FailureStatuses []int

	// AttemptTimeout bounds each attempt until its response headers
	// arrive, as http.Transport's ResponseHeaderTimeout does; the body is
	// then read within Timeout and the request's context. Until then the
	// attempt's context reports the deadline (on Clock) and, once it
	// passes, context.DeadlineExceeded, as do contexts derived from it. An
	// attempt that times out is a failure, and is retried. Zero means no
	// bound.
	AttemptTimeout time.Duration
	// Timeout bounds the whole request, attempts, waits and the reading of
	// the body included, as http.Client's Timeout does; its deadline is
	// the context's deadline, and once it passes that context and those
	// derived from it end with context.DeadlineExceeded. A request (or a
	// body read) it cuts short fails with a *timeout.Error, matching
	// timeout.ErrTimeout and context.DeadlineExceeded. Zero means no
	// bound but the request's context.
	Timeout time.Duration

	// Rate, when set, limits the attempts sent under each key, with bursts
	// of Burst (zero means 1); an attempt over the limit is refused with a
	// rejection matching ratelimit.ErrLimited. The zero Rate means no
	// limit.
	Rate  ratelimit.Rate
	Burst int
	// MaxConcurrent, when positive, bounds the attempts in flight under
	// each key until their response headers arrive; one over the limit is
	// refused with a rejection matching bulkhead.ErrFull.
	MaxConcurrent int

	// HedgeDelay, when positive, hedges repeatable requests: when an
	// attempt has no answer after this long, another starts, and the first
	// good answer wins; the others are cancelled and their bodies closed.
	// HedgeQuantile and MaxHedges are those of hedge.Config.
	HedgeDelay    time.Duration
	HedgeQuantile float64
	MaxHedges     int

	// Clock times breakers, retries, limits, hedges and AttemptTimeout;
	// nil means the real clock. Timeout is a context deadline, always on
	// the real clock.
	Clock clock.Clock
	// Listeners receive the events of every policy the transport builds,
	// besides those in Breaker.Listeners.
	Listeners resilience.Listeners
}

// Transport is an http.RoundTripper that sends each request through a
// pipeline of policies on the way to Base: for a request that is safe to
// repeat, retry → hedge → rate limit → concurrency limit → breaker, one
// set per key (per host by default); for one that is not, the same
// without the retry and the hedge. The policies of a key are built on its
// first request and kept.
//
// Every attempt's response is judged: connection errors, 429, 503 and
// FailureStatuses are failures, other responses are answers, and the
// caller's own cancellation is ignored. A failure is retried while
// attempts remain and waits at least the server's Retry-After (capped),
// which also holds the breaker open that long; when no retry is left the
// caller gets the last response, status and body, as net/http would give
// it. A request the transport refuses (an open breaker, a limit) gets an
// error for which resilience.IsRejected is true, matching its policy's
// sentinel and carrying resilience.RetryAfter; http.Client wraps it in a
// *url.Error, through which both still work.
//
// A response a retry drops is drained (up to 64 KiB) and closed, so its
// connection serves the retry; one that loses to a hedge is cancelled and
// closed. The caller must close the body of the response it gets, as
// always; doing so (or reading it to its end) releases the request's
// contexts and timers.
//
// Build it with [NewTransport]; the zero value is not usable. It is safe
// for concurrent use.
type Transport struct {
	base           http.RoundTripper
	key            func(*http.Request) string
	repeatable     func(*http.Request) bool
	failures       statusSet
	maxRetryAfter  time.Duration
	attemptTimeout time.Duration
	timeout        time.Duration
	clock          clock.Clock
	policies       policies
	timers         sync.Pool // of *deadlineTimer, on the real clock
}

// NewTransport returns a transport configured by cfg, or a
// *[resilience.ConfigError] naming the field it refuses.
func NewTransport(cfg TransportConfig) (*Transport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &Transport{
		base: cfg.Base, key: cfg.Key, repeatable: cfg.Repeatable,
		maxRetryAfter: cfg.MaxRetryAfter, attemptTimeout: cfg.AttemptTimeout, timeout: cfg.Timeout,
		clock: cfg.Clock,
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.key == nil {
		t.key = HostKey
	}
	if t.repeatable == nil {
		t.repeatable = SafeToRepeat
	}
	if t.maxRetryAfter == 0 {
		t.maxRetryAfter = backoff.DefaultMaxRetryAfter
	}
	t.failures.fill(alwaysFailureStatus)
	if cfg.FailureStatuses == nil {
		t.failures.fill(defaultFailureStatus)
	}
	for _, c := range cfg.FailureStatuses {
		t.failures.add(c)
	}
	if err := t.policies.init(t, cfg); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *TransportConfig) validate() error {
	refuse := func(field, rule string, v any) error {
		return &resilience.ConfigError{Component: "httpx", Field: field, Rule: rule, Value: v}
	}
	switch {
	case c.MaxKeys < 0:
		return refuse("MaxKeys", "must not be negative", c.MaxKeys)
	case c.AttemptTimeout < 0:
		return refuse("AttemptTimeout", "must not be negative", c.AttemptTimeout)
	case c.Timeout < 0:
		return refuse("Timeout", "must not be negative", c.Timeout)
	case c.MaxRetryAfter < 0:
		return refuse("MaxRetryAfter", "must not be negative", c.MaxRetryAfter)
	case c.HedgeDelay < 0:
		return refuse("HedgeDelay", "must not be negative", c.HedgeDelay)
	case c.MaxConcurrent < 0:
		return refuse("MaxConcurrent", "must not be negative", c.MaxConcurrent)
	}
	for _, code := range c.FailureStatuses {
		if !validStatus(code) {
			return refuse("FailureStatuses", "must hold codes in [100, 599]", code)
		}
	}
	return nil
}

// RoundTrip sends req through the policies of its key. See [Transport].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil {
		if req != nil && req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errNilRequest
	}
	set, err := t.policies.get(t.key(req))
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	p, hedged := set.once, false
	if rewindable(req) && t.repeatable(req) {
		p, hedged = set.repeated, set.hedged
	}
	ex := t.newExchange(req, hedged)
	if t.timeout > 0 {
		ex.startTimeout()
	}
	return ex.finish(p.Execute(ex.ctx, ex.attempt))
}

// exchangeWithExtras holds an exchange and its extras in one allocation.
type exchangeWithExtras struct {
	ex exchange
	x  extras
}

// newExchange makes the exchange of req, with extras when it will have
// contexts of its own.
func (t *Transport) newExchange(req *http.Request, hedged bool) *exchange {
	var ex *exchange
	if t.timeout > 0 || t.attemptTimeout > 0 || hedged {
		both := new(exchangeWithExtras)
		both.ex.x = &both.x
		ex = &both.ex
	} else {
		ex = new(exchange)
	}
	ex.t, ex.req, ex.ctx, ex.hedged = t, req, req.Context(), hedged
	return ex
}

// CloseIdleConnections closes the idle connections of Base, when Base has
// such a method, so that http.Client.CloseIdleConnections reaches it.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Breakers returns the registry holding the transport's breakers: the one
// in [TransportConfig].Breakers, or the transport's own.
func (t *Transport) Breakers() *breaker.Registry { return t.policies.breakers }

// Breaker returns the breaker of key (a host, with the default Key), once
// a request with that key has been sent.
func (t *Transport) Breaker(key string) (*breaker.Breaker, bool) {
	s, ok := t.policies.lookup(key)
	if !ok {
		return nil, false
	}
	return s.breaker, true
}

func (t *Transport) now() time.Time {
	if t.clock == nil {
		return time.Now()
	}
	return t.clock.Now()
}
