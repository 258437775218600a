package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/httpx"
)

// DefaultMaxResponseBytes bounds a response body when
// ClientConfig.MaxResponseBytes is zero.
const DefaultMaxResponseBytes = 1 << 20

// ClientConfig tunes a client. The zero value is ready to use.
type ClientConfig struct {
	// HTTPClient sends the requests; nil means a client on
	// http.DefaultTransport with no overall timeout: deadlines belong to
	// the caller's context (and to a timeout policy). A client used with
	// no policies around it may take one over an httpx.Transport; see the
	// package documentation.
	HTTPClient *http.Client
	// MaxResponseBytes bounds how much of a response body is read; a
	// longer body is an error. Zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Clock reads Retry-After dates; nil means the real clock.
	Clock clock.Clock
}

// client is the transport shared by the typed clients.
type client struct {
	base  string
	hc    *http.Client
	max   int64
	clock clock.Clock
}

// newClient checks the configuration of a client of kind ("bank", "fx",
// "log"); a refusal is a *resilience.ConfigError named after the kind.
func newClient(kind, baseURL string, cfg ClientConfig) (client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return client{}, &resilience.ConfigError{Component: "httpapi", Name: kind, Field: "baseURL",
			Rule: "must be an absolute http(s) URL", Value: baseURL}
	}
	if cfg.MaxResponseBytes < 0 {
		return client{}, &resilience.ConfigError{Component: "httpapi", Name: kind, Field: "MaxResponseBytes",
			Rule: "must not be negative", Value: cfg.MaxResponseBytes}
	}
	c := client{base: strings.TrimRight(baseURL, "/"), hc: cfg.HTTPClient, max: cfg.MaxResponseBytes, clock: cfg.Clock}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.max == 0 {
		c.max = DefaultMaxResponseBytes
	}
	if c.clock == nil {
		c.clock = clock.New()
	}
	return c, nil
}

// do sends one request and decodes a 2xx body into out (nil: ignore it).
// The body is encoded once into bytes; http.NewRequest gives the request a
// GetBody over them, so the transport can resend it on a reused connection,
// and every call of do (every retry) builds a fresh reader.
func (c *client) do(ctx context.Context, op, method, path string, in, out any) error {
	return c.doKeyed(ctx, op, method, path, "", in, out)
}

// doKeyed is do for a request the service applies once per key however
// often it arrives: the key goes in an Idempotency-Key header, by which a
// transport that retries (httpx.SafeToRepeat) knows it may send the
// request again. An empty key sends no header.
func (c *client) doKeyed(ctx context.Context, op, method, path, key string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return &Error{Op: op, class: ErrClientError, Cause: fmt.Errorf("encode request: %w", err)}
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return &Error{Op: op, class: ErrClientError, Cause: err}
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &Error{Op: op, class: ErrTransport, Cause: err}
	}
	// A body over the limit is left partly unread: drain it (bounded), so
	// that its connection serves the next call.
	defer httpx.DrainBody(resp.Body)
	data, err := io.ReadAll(io.LimitReader(resp.Body, min(c.max, math.MaxInt64-1)+1))
	if err != nil {
		return &Error{Op: op, StatusCode: resp.StatusCode, class: ErrTransport, Cause: fmt.Errorf("read body: %w", err)}
	}
	if int64(len(data)) > c.max {
		return &Error{Op: op, StatusCode: resp.StatusCode, class: ErrMalformedResponse,
			Cause: fmt.Errorf("body longer than %d bytes", c.max)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return decodeSuccess(op, resp.StatusCode, data, out)
	}
	return c.statusError(op, resp, data)
}

func decodeSuccess(op string, status int, data []byte, out any) error {
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(out)
	// More() is false before a stray '}' or ']', so look at the bytes left.
	if err == nil && len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		err = errors.New("trailing data after JSON value")
	}
	if err != nil {
		return &Error{Op: op, StatusCode: status, class: ErrMalformedResponse, Cause: err}
	}
	return nil
}

// statusError builds the error for a non-2xx response. The body is read
// leniently: a proxy's HTML page still yields a classified error. A 4xx
// that is not the service's own answer is [ErrInfrastructure].
func (c *client) statusError(op string, resp *http.Response, data []byte) error {
	var eb ErrorBody
	_ = json.Unmarshal(data, &eb) // a body that is not ours leaves eb empty or partial
	var after time.Duration
	if s := resp.StatusCode; s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable {
		after = retryAfter(resp.Header.Get("Retry-After"), c.clock.Now())
	}
	e := newStatusError(op, resp.StatusCode, eb, after)
	if ct := resp.Header.Get("Content-Type"); e.class == ErrClientError && !(isJSON(ct) && serviceCodes[eb.Code]) {
		e.class = ErrInfrastructure
		e.Cause = fmt.Errorf("not an answer of the service: no error body of this API (Content-Type %q)", clip(ct))
	}
	return e
}

// newStatusError builds the error for a status the service answered,
// with the error body it sent (the zero ErrorBody when none) and the
// Retry-After it asked for.
func newStatusError(op string, status int, eb ErrorBody, after time.Duration) *Error {
	e := &Error{Op: op, StatusCode: status, class: classify(status), Code: clip(eb.Code), Message: clip(eb.Message)}
	switch e.class {
	case ErrOverloaded:
		e.After = after
	case ErrClientError:
		e.Cause = domainError(eb)
	}
	return e
}

// isJSON reports whether a Content-Type names JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// domainError turns an error body into the payments error it names.
func domainError(eb ErrorBody) error {
	switch eb.Code {
	case CodeDeclined:
		return &payments.DeclineError{Reason: clip(eb.Reason)}
	case CodeConflict:
		return payments.ErrIdempotencyConflict
	case CodeBatchTooLarge:
		return payments.ErrBatchTooLarge
	case CodeNotFound:
		return payments.ErrNotFound
	case CodeNoRate:
		return payments.ErrNoRate
	case CodeCurrency:
		return payments.ErrUnknownCurrency
	case CodeInvalid:
		if len(eb.Problems) > 0 {
			return &payments.ValidationError{Problems: eb.Problems}
		}
		return payments.ErrInvalidRequest
	}
	return nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
