package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/resilience"
)

func transferReq(key string) payments.TransferRequest {
	return payments.TransferRequest{IdempotencyKey: key, From: "acct_alice0001", To: "acct_bob000002",
		Amount: payments.MustParseMoney("10.00 USD")}
}

// answer replies as the service does: a JSON body with its content type.
func answer(status int, body string, headers ...string) http.HandlerFunc {
	return reply(status, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

// reply answers every request with the given status, headers and body.
func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func newBank(t *testing.T, h http.Handler, cfg httpapi.ClientConfig) *httpapi.BankClient {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := httpapi.NewBankClient(srv.URL, cfg)
	require.NoError(t, err)
	return c
}

func TestStatusMapping(t *testing.T) {
	mock := clock.NewMock()
	httpDate := mock.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		h          http.HandlerFunc
		class      error
		domain     error
		permanent  bool
		retryAfter time.Duration
	}{
		{"429 seconds", reply(429, `{"code":"overloaded"}`, "Retry-After", "3"), httpapi.ErrOverloaded, nil, false, 3 * time.Second},
		{"503 http-date", reply(503, `{}`, "Retry-After", httpDate), httpapi.ErrOverloaded, nil, false, 90 * time.Second},
		{"503 no header", reply(503, `not json`), httpapi.ErrOverloaded, nil, false, 0},
		{"500", reply(500, `{"code":"internal"}`, "Retry-After", "5"), httpapi.ErrServerFailure, nil, false, 0},
		{"502 html", reply(502, `<html>bad gateway</html>`), httpapi.ErrServerFailure, nil, false, 0},
		{"408", reply(408, ``), httpapi.ErrServerFailure, nil, false, 0},
		{"422 declined", answer(422, `{"code":"declined","reason":"insufficient_funds"}`), httpapi.ErrClientError, payments.ErrDeclined, true, 0},
		{"409 conflict", answer(409, `{"code":"idempotency_conflict"}`), httpapi.ErrClientError, payments.ErrIdempotencyConflict, true, 0},
		{"400 invalid", answer(400, `{"code":"invalid_request","problems":[{"field":"amount","problem":"must be positive"}]}`),
			httpapi.ErrClientError, payments.ErrInvalidRequest, true, 0},
		{"413 batch too large", answer(413, `{"code":"batch_too_large"}`), httpapi.ErrClientError, payments.ErrBatchTooLarge, true, 0},
		{"404 unknown code", answer(404, `{"code":"teapot"}`), httpapi.ErrInfrastructure, nil, false, 0},
		{"422 declined, not JSON", reply(422, `{"code":"declined","reason":"insufficient_funds"}`, "Content-Type", "text/plain"),
			httpapi.ErrInfrastructure, nil, false, 0},
		{"200 malformed", reply(200, `{"transfer_id":`), httpapi.ErrMalformedResponse, nil, false, 0},
		{"200 wrong type", reply(200, `{"amount":12.5}`), httpapi.ErrMalformedResponse, nil, false, 0},
		{"200 trailing", reply(200, `{} {}`), httpapi.ErrMalformedResponse, nil, false, 0},
		{"200 too long", reply(200, `{"transfer_id":"`+strings.Repeat("x", 200)+`"}`), httpapi.ErrMalformedResponse, nil, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bank := newBank(t, c.h, httpapi.ClientConfig{Clock: mock, MaxResponseBytes: 100})
			_, err := bank.Transfer(context.Background(), transferReq("k1"))
			var he *httpapi.Error
			require.ErrorAs(t, err, &he)
			assert.ErrorIs(t, err, c.class)
			if c.domain != nil {
				assert.ErrorIs(t, err, c.domain)
			}
			assert.Equal(t, c.permanent, he.Permanent())
			assert.Equal(t, c.permanent, payments.IsPermanent(err))
			d, ok := resilience.RetryAfter(err)
			assert.Equal(t, c.retryAfter, d)
			assert.Equal(t, c.retryAfter > 0, ok)
			assert.Equal(t, resilience.Failure, resilience.DefaultOutcome(context.Background(), err),
				"every HTTP error is a failure to the policies, never a rejection")
		})
	}
}

func TestDeclineCarriesReason(t *testing.T) {
	bank := newBank(t, answer(422, `{"code":"declined","reason":"insufficient_funds"}`), httpapi.ClientConfig{})
	_, err := bank.Transfer(context.Background(), transferReq("k1"))
	var de *payments.DeclineError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, payments.DeclineInsufficientFunds, de.Reason)
}

func TestSuccessDecodes(t *testing.T) {
	body := `{"transfer_id":"tr_1","idempotency_key":"k1","amount":"10.00 USD","committed_at":"2026-01-02T03:04:05Z","replayed":true}`
	bank := newBank(t, reply(200, body), httpapi.ClientConfig{})
	r, err := bank.Transfer(context.Background(), transferReq("k1"))
	require.NoError(t, err)
	assert.Equal(t, "tr_1", r.TransferID)
	assert.Equal(t, payments.MustParseMoney("10 USD"), r.Amount)
	assert.True(t, r.Replayed)
}

func TestTransportErrors(t *testing.T) {
	t.Run("connection closed without reply", func(t *testing.T) {
		bank := newBank(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}), httpapi.ClientConfig{})
		_, err := bank.Transfer(context.Background(), transferReq("k1"))
		assert.ErrorIs(t, err, httpapi.ErrTransport)
		assert.False(t, payments.IsPermanent(err))
	})
	t.Run("nobody listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		bank, err := httpapi.NewBankClient(url, httpapi.ClientConfig{})
		require.NoError(t, err)
		_, err = bank.Transfer(context.Background(), transferReq("k1"))
		assert.ErrorIs(t, err, httpapi.ErrTransport)
	})
	t.Run("caller cancelled", func(t *testing.T) {
		release := make(chan struct{})
		bank := newBank(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}), httpapi.ClientConfig{})
		defer close(release)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := bank.Transfer(ctx, transferReq("k1"))
		assert.ErrorIs(t, err, httpapi.ErrTransport)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, resilience.Ignored, resilience.DefaultOutcome(ctx, err))
	})
}

// replayCheck is a RoundTripper that sends a request's body, then asks
// GetBody for it again, as a transport retrying on a new connection would.
type replayCheck struct {
	next   http.RoundTripper
	bodies []string
}

func (rc *replayCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.GetBody != nil {
		for range 2 {
			b, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			data, _ := io.ReadAll(b)
			rc.bodies = append(rc.bodies, string(data))
		}
	}
	return rc.next.RoundTrip(r)
}

func TestRequestBodyIsReplayable(t *testing.T) {
	var got []string
	rc := &replayCheck{next: http.DefaultTransport}
	bank := newBank(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.WriteHeader(503)
	}), httpapi.ClientConfig{HTTPClient: &http.Client{Transport: rc}})
	for range 2 { // two attempts, as a retry policy would make
		_, err := bank.Transfer(context.Background(), transferReq("k1"))
		require.ErrorIs(t, err, httpapi.ErrOverloaded)
	}
	require.Len(t, got, 2)
	assert.Equal(t, got[0], got[1], "a retry must send the same bytes")
	require.Len(t, rc.bodies, 4)
	for _, b := range rc.bodies {
		assert.Equal(t, got[0], b, "GetBody must yield the body again")
	}
	assert.Contains(t, got[0], `"idempotency_key":"k1"`)
	assert.Contains(t, got[0], `"amount":"10.00 USD"`, "amounts travel as strings, never JSON numbers")
}

func TestClientRefusesBadInputBeforeSending(t *testing.T) {
	calls := 0
	bank := newBank(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }), httpapi.ClientConfig{})
	_, err := bank.Transfer(context.Background(), payments.TransferRequest{})
	assert.ErrorIs(t, err, payments.ErrInvalidRequest)
	_, err = bank.Status(context.Background(), "bad key/..")
	assert.ErrorIs(t, err, payments.ErrInvalidRequest)
	assert.Equal(t, 0, calls)
}

func TestNewClientRefusesBadConfig(t *testing.T) {
	for _, u := range []string{"", "localhost:80", "ftp://x", "http://"} {
		_, err := httpapi.NewBankClient(u, httpapi.ClientConfig{})
		var ce *resilience.ConfigError
		require.ErrorAs(t, err, &ce, u)
		assert.Equal(t, resilience.ConfigError{Component: "httpapi", Name: "bank", Field: "baseURL",
			Rule: "must be an absolute http(s) URL", Value: u}, *ce)
	}
	_, err := httpapi.NewLogClient("http://127.0.0.1:1", httpapi.ClientConfig{MaxResponseBytes: -1})
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, resilience.ConfigError{Component: "httpapi", Name: "log", Field: "MaxResponseBytes",
		Rule: "must not be negative", Value: int64(-1)}, *ce)
}
