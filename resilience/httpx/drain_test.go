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

// A body left unread is drained up to MaxDrain, so its connection serves
// the next request; a longer one costs its connection. The same requests
// closed without draining dial every time, so the count can fail.
func TestDrainBodyKeepsTheConnection(t *testing.T) {
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := httpx.MaxDrain / 2
		if r.URL.Path == "/long" {
			n = 2 * httpx.MaxDrain
		}
		_, _ = io.WriteString(w, strings.Repeat("x", n))
	})
	for _, tc := range []struct {
		name  string
		path  string
		drain bool
		dials int64
	}{
		{"drained", "/short", true, 1},
		{"closed unread", "/short", false, 5},
		{"longer than MaxDrain", "/long", true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := newTrBase()
			t.Cleanup(base.CloseIdleConnections)
			client := &http.Client{Transport: base}
			for range 5 {
				resp, err := client.Get(srv.URL + tc.path)
				require.NoError(t, err)
				_, _ = io.CopyN(io.Discard, resp.Body, 10) // a client that stops early
				if tc.drain {
					httpx.DrainBody(resp.Body)
				} else {
					_ = resp.Body.Close()
				}
			}
			assert.Equal(t, tc.dials, base.dials.Load())
		})
	}
	httpx.DrainBody(nil) // no body, no panic
}
