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

func TestOutcomeAndNotProcessed(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	cases := []struct {
		name         string
		url          func(t *testing.T) string
		outcome      resilience.Outcome
		notProcessed bool
	}{
		{"decline", serverURL(answer(422, `{"code":"declined","reason":"insufficient_funds"}`)), resilience.Success, true},
		{"proxy 401", serverURL(reply(401, `<html>login</html>`, "Content-Type", "text/html")), resilience.Failure, true},
		{"429", serverURL(reply(429, `{}`)), resilience.Failure, true},
		{"503", serverURL(reply(503, `{}`)), resilience.Failure, true},
		{"500", serverURL(reply(500, `{}`)), resilience.Failure, false},
		{"502", serverURL(reply(502, `{}`)), resilience.Failure, false},
		{"malformed 200", serverURL(reply(200, `{`)), resilience.Failure, false},
		{"connection refused", func(*testing.T) string { return deadURL }, resilience.Failure, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bank, err := httpapi.NewBankClient(c.url(t), httpapi.ClientConfig{})
			require.NoError(t, err)
			_, err = bank.Transfer(context.Background(), transferReq("k1"))
			require.Error(t, err)
			assert.Equal(t, c.outcome, httpapi.Outcome(context.Background(), err))
			assert.Equal(t, c.notProcessed, httpapi.NotProcessed(err))
		})
	}
	assert.Equal(t, resilience.Success, httpapi.Outcome(context.Background(), nil))
	assert.False(t, httpapi.NotProcessed(nil))
	assert.True(t, httpapi.NotProcessed(payments.TransferRequest{}.Validate()))
}

func serverURL(h http.Handler) func(t *testing.T) string {
	return func(t *testing.T) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
}
