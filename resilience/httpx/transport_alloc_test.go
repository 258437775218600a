//go:build !race

package httpx_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/httpx"
)

// The allocations the transport adds to a request that succeeds at once,
// over a base answering from memory, stay what they were measured to be:
// 4 with every policy on (the exchange, the request's copy, the function
// the pipeline runs and the hedger's first attempt context; 24 before the
// contexts of its own, 8 before the hedger's lazy one), 2 with the
// defaults. (The race detector changes allocation counts, hence the build
// tag.)
func TestTransportAllocsPerRequest(t *testing.T) {
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader("0.9215")), Request: r}, nil
	})
	req, err := http.NewRequest(http.MethodGet, "http://fx.test/rate", nil)
	require.NoError(t, err)
	allocs := func(rt http.RoundTripper) float64 {
		return testing.AllocsPerRun(500, func() {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				panic(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		})
	}
	bare := allocs(base)
	for _, tc := range []struct {
		name string
		cfg  httpx.TransportConfig
		max  float64
	}{
		{"everything", everything(base), 4},
		{"defaults", httpx.TransportConfig{Base: base}, 2},
	} {
		tr, err := httpx.NewTransport(tc.cfg)
		require.NoError(t, err)
		added := allocs(tr) - bare
		t.Logf("%s: %v allocations added to the base's %v", tc.name, added, bare)
		assert.LessOrEqual(t, added, tc.max, tc.name)
	}
}
