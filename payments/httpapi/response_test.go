package httpapi_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/resilience"
)

const goodReceipt = `{"transfer_id":"tr_1","idempotency_key":"k1","amount":"10.00 USD","committed_at":"2026-01-01T00:00:00Z"}`

// A 2xx body with a stray closing bracket was accepted.
func TestTrailingCloserIsMalformed(t *testing.T) {
	for _, tail := range []string{"}", "]", " }}]"} {
		client := newBank(t, reply(http.StatusOK, goodReceipt+tail), httpapi.ClientConfig{})
		_, err := client.Transfer(context.Background(), transferReq("k1"))
		assert.ErrorIs(t, err, httpapi.ErrMalformedResponse, "tail %q", tail)
	}
}

// MaxResponseBytes = MaxInt64 overflowed the read limit to nothing.
func TestHugeMaxResponseBytesStillReads(t *testing.T) {
	client := newBank(t, reply(http.StatusOK, goodReceipt), httpapi.ClientConfig{MaxResponseBytes: math.MaxInt64})
	r, err := client.Transfer(context.Background(), transferReq("k1"))
	require.NoError(t, err)
	assert.Equal(t, "tr_1", r.TransferID)
}

// A Retry-After date a century ahead was believed.
func TestFarRetryAfterDateIsIgnored(t *testing.T) {
	far := time.Now().Add(100 * 365 * 24 * time.Hour).UTC().Format(http.TimeFormat)
	client := newBank(t, reply(http.StatusServiceUnavailable, `{}`, "Retry-After", far), httpapi.ClientConfig{})
	_, err := client.Transfer(context.Background(), transferReq("k1"))
	require.ErrorIs(t, err, httpapi.ErrOverloaded)
	_, ok := resilience.RetryAfter(err)
	assert.False(t, ok)
}

// A 200 whose receipt does not describe the transfer proves nothing: it
// must not be taken for money moved.
func TestReceiptMustDescribeTheTransfer(t *testing.T) {
	for name, body := range map[string]string{
		"empty":        `{}`,
		"another key":  strings.Replace(goodReceipt, `"k1"`, `"k2"`, 1),
		"other amount": strings.Replace(goodReceipt, `10.00 USD`, `1.00 USD`, 1),
	} {
		client := newBank(t, reply(http.StatusOK, body), httpapi.ClientConfig{})
		_, err := client.Transfer(context.Background(), transferReq("k1"))
		assert.ErrorIs(t, err, httpapi.ErrMalformedResponse, name)
		assert.False(t, httpapi.NotProcessed(err), name)
	}
}
