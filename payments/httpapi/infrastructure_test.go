package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/resilience"
)

// proxyAnswers are 4xx answers that infrastructure in front of the bank
// gives, none of them the bank's own.
func proxyAnswers() map[string]http.Handler {
	otherRoutes := http.NewServeMux() // a server without the route: Go's own 404
	otherRoutes.HandleFunc("GET /v2/", func(http.ResponseWriter, *http.Request) {})
	getOnly := http.NewServeMux() // the route, for another method: Go's own 405
	getOnly.HandleFunc("GET /v1/transfers", func(http.ResponseWriter, *http.Request) {})
	return map[string]http.Handler{
		"401 auth proxy HTML":     reply(401, `<html><body>Sign in</body></html>`, "Content-Type", "text/html", "WWW-Authenticate", "Bearer"),
		"403 gateway JSON":        answer(403, `{"message":"Forbidden"}`),
		"403 JSON numeric code":   answer(403, `{"code":403,"message":"denied"}`),
		"404 HTML":                reply(404, `<html>Not Found</html>`, "Content-Type", "text/html"),
		"404 JSON foreign code":   answer(404, `{"code":"route_not_found"}`),
		"404 from a mux":          otherRoutes,
		"405 from a mux":          getOnly,
		"407 proxy auth":          reply(407, ``),
		"422 declined as text":    reply(422, `{"code":"declined","reason":"insufficient_funds"}`, "Content-Type", "text/plain"),
		"409 conflict, no header": reply(409, `{"code":"idempotency_conflict"}`),
	}
}

// A 4xx that did not come from the bank never declines a payment, never
// passes for a healthy bank, and proves the transfer was not processed.
func TestInfrastructureRefusalIsAFailureNotAnAnswer(t *testing.T) {
	for name, h := range proxyAnswers() {
		t.Run(name, func(t *testing.T) {
			bank := newBank(t, h, httpapi.ClientConfig{})
			ctx := context.Background()
			_, err := bank.Transfer(ctx, transferReq("k1"))
			require.Error(t, err)
			assert.ErrorIs(t, err, httpapi.ErrInfrastructure)
			assert.NotErrorIs(t, err, httpapi.ErrClientError)
			assert.NotErrorIs(t, err, payments.ErrDeclined, "a proxy never declines a payment")
			assert.NotErrorIs(t, err, payments.ErrIdempotencyConflict)
			assert.False(t, payments.IsPermanent(err))
			assert.Equal(t, resilience.Failure, httpapi.Outcome(ctx, err), "it must count against the breaker")
			assert.True(t, httpapi.NotProcessed(err), "refused before the bank: nothing moved")
		})
	}
}

// A proxy's 404 on a status lookup must not read "the bank has no such
// transfer": the reconciler would conclude the payment never happened.
func TestInfrastructure404IsNotTransferNotFound(t *testing.T) {
	bank := newBank(t, reply(404, `<html>Not Found</html>`, "Content-Type", "text/html"), httpapi.ClientConfig{})
	_, err := bank.Status(context.Background(), "k1")
	assert.ErrorIs(t, err, httpapi.ErrInfrastructure)
	assert.NotErrorIs(t, err, payments.ErrNotFound)
	assert.Equal(t, resilience.Failure, httpapi.Outcome(context.Background(), err))

	bank = newBank(t, answer(404, `{"code":"not_found","message":"no transfer"}`), httpapi.ClientConfig{})
	_, err = bank.Status(context.Background(), "k1")
	assert.ErrorIs(t, err, payments.ErrNotFound, "the bank's own 404 is an answer")
	assert.Equal(t, resilience.Success, httpapi.Outcome(context.Background(), err))
}

// A proxy's 403 on the log must not set the entry aside for good.
func TestInfrastructureRefusalOfAnAppendIsRetryable(t *testing.T) {
	srv := httptest.NewServer(reply(403, `Forbidden`))
	defer srv.Close()
	c, err := httpapi.NewLogClient(srv.URL, httpapi.ClientConfig{})
	require.NoError(t, err)
	err = c.Append(context.Background(), entry("p1"))
	assert.ErrorIs(t, err, httpapi.ErrInfrastructure)
	assert.False(t, payments.IsPermanent(err))
	var he *httpapi.Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 403, he.StatusCode)
	assert.Contains(t, he.Error(), `no error body of this API (Content-Type "text/plain; charset=utf-8")`)
}
