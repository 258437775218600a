package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/riprap-go/riprap/payments"
)

// maxResponseBytes bounds what a Client reads of an answer.
const maxResponseBytes = 1 << 20

// ErrNoResult is matched (errors.Is) by a [Client] error for an answer
// that carries no [Result]: the gateway refused the request itself (400,
// 413), or something in front of it answered. Whether the payment was
// attempted is then unknown only if the status is not a 4xx.
var ErrNoResult = errors.New("gateway: answer without a result")

// Client pays through a gateway served by [Gateway.Handler] in another
// process. It is safe for concurrent use; the zero value is not usable.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the gateway at baseURL ("http://host:port");
// a nil hc means http.DefaultClient.
func NewClient(baseURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gateway: client base URL %q: want http(s)://host[:port]", baseURL)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}, nil
}

// Pay sends req and returns the gateway's [Result]. An error means no
// result came back: the request may or may not have reached the gateway,
// so send it again with the same idempotency key.
func (c *Client) Pay(ctx context.Context, req payments.PaymentRequest) (Result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Result{}, fmt.Errorf("gateway: encoding the request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+PathPayments, bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	return c.do(hr)
}

// Lookup returns the current result of the payment with the given key; the
// error matches [ErrUnknownPayment] when the gateway does not know it.
func (c *Client) Lookup(ctx context.Context, key string) (Result, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathPayments+"/"+url.PathEscape(key), nil)
	if err != nil {
		return Result{}, err
	}
	res, err := c.do(hr)
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusNotFound {
		return Result{}, fmt.Errorf("%w %q", ErrUnknownPayment, key)
	}
	return res, err
}

func (c *Client) do(hr *http.Request) (Result, error) {
	resp, err := c.hc.Do(hr)
	if err != nil {
		return Result{}, fmt.Errorf("gateway: %s %s: %w", hr.Method, hr.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Result{}, fmt.Errorf("gateway: %s %s: reading the answer: %w", hr.Method, hr.URL.Path, err)
	}
	var r Result
	if json.Unmarshal(data, &r) != nil || r.State == "" {
		return Result{}, &statusError{status: resp.StatusCode, body: clip(string(data))}
	}
	return r, nil
}

// statusError is an answer without a result.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%v: HTTP %d: %s", ErrNoResult, e.status, e.body)
}

func (e *statusError) Unwrap() error { return ErrNoResult }

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
