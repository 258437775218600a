package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Config configures a [Transport]. Breaker is required; every other zero
// value means the default written on its field.
type Config struct {
	// Base sends each attempt; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Breaker guards the server. One breaker per server (per host), shared
	// by every request to it.
	Breaker *breaker.Breaker
	// Attempts bounds tries per request (default 3); Backoff spaces them
	// (default exponential from 50ms, full jitter, up to 1s).
	Attempts int
	Backoff  backoff.Strategy
	// Listeners receive the retry policy's events.
	Listeners resilience.Listeners
}

// Transport is an http.RoundTripper that sends each request through a
// breaker and then a retry: the breaker sees one outcome per request, the
// retry tries again on a transport error, a 5xx or a 429 — only requests
// that are safe to repeat (an idempotent method, or an Idempotency-Key
// header) and whose body can be sent again (GetBody).
//
// A failing answer (5xx, 429) is a failure for the policies but still an
// answer for the caller: once retries end, RoundTrip returns the last such
// response, as net/http would, with its body buffered. A request the breaker
// refuses returns an error that matches breaker.ErrOpen and carries
// RetryAfter (resilience.RetryAfter), wrapped by http.Client in a *url.Error.
//
// There is deliberately no timeout policy: its deadline would end when
// RoundTrip returns, cutting off the body the caller has yet to read. Bound
// requests with the request's context or http.Client.Timeout.
//
// Build it with [NewTransport]; it is safe for concurrent use.
type Transport struct {
	base http.RoundTripper
	call resilience.Func[*http.Response]
}

type requestKey struct{}

// NewTransport builds the transport's pipeline once.
func NewTransport(cfg Config) (*Transport, error) {
	if cfg.Breaker == nil {
		return nil, errors.New("httpclient: Breaker is required")
	}
	if cfg.Attempts < 0 {
		return nil, fmt.Errorf("httpclient: Attempts must not be negative, got %d", cfg.Attempts)
	}
	t := &Transport{base: cfg.Base}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	strategy := cfg.Backoff
	if strategy == nil {
		var err error
		if strategy, err = backoff.NewExponential(backoff.ExponentialConfig{Initial: 50 * time.Millisecond,
			Max: time.Second, Jitter: backoff.FullJitter}); err != nil {
			return nil, err
		}
	}
	retry, err := backoff.NewRetry(backoff.RetryConfig[*http.Response]{Name: "http", MaxAttempts: cfg.Attempts,
		Strategy: strategy, Listeners: cfg.Listeners,
		RetryIf: func(ctx context.Context, _ *http.Response, err error) bool {
			return err != nil && repeatable(ctx.Value(requestKey{}).(*http.Request))
		}})
	if err != nil {
		return nil, err
	}
	p, err := resilience.NewPipeline(breaker.Policy[*http.Response](cfg.Breaker), retry)
	if err != nil {
		return nil, err
	}
	t.call = p.Wrap(t.attempt)
	return t, nil
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.call(context.WithValue(req.Context(), requestKey{}, req))
	if req.Body != nil {
		// Attempts sent copies (GetBody), or the base transport closed it
		// already; a refused request never read it. Either way it is ours
		// to close, as a RoundTripper must.
		_ = req.Body.Close()
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Response, nil
	}
	return resp, err
}

// attempt sends one copy of the request.
func (t *Transport) attempt(ctx context.Context) (*http.Response, error) {
	orig := ctx.Value(requestKey{}).(*http.Request)
	req := orig.Clone(orig.Context())
	if orig.GetBody != nil {
		body, err := orig.GetBody()
		if err != nil {
			return nil, backoff.Permanent(err)
		}
		req.Body = body
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return nil, newStatusError(resp)
	}
	return resp, nil
}

// repeatable reports whether sending req again cannot do harm and can be
// done.
func repeatable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// maxErrorBody bounds how much of a failing answer is kept.
const maxErrorBody = 64 << 10

// StatusError is a failing answer (5xx or 429) seen as an error by the
// policies. Response is the answer with its body read into memory.
type StatusError struct {
	Response   *http.Response
	retryAfter time.Duration
}

func newStatusError(resp *http.Response) *StatusError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	e := &StatusError{Response: resp}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		e.retryAfter = time.Duration(secs) * time.Second
	}
	return e
}

func (e *StatusError) Error() string { return "httpclient: server answered " + e.Response.Status }

// RetryAfter is the server's Retry-After in seconds, if any: the retry
// waits at least that long, and a breaker it opens stays open that long.
func (e *StatusError) RetryAfter() time.Duration { return e.retryAfter }
