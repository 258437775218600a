package httpx_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/httpx"
)

// A budget shared by the retry and the hedger counts each request once:
// the retry counts it, the hedger (inside the retry) only spends from it.
// Counting it in both would double Ratio's bound on the extra load. With
// retries off, the hedger counts the requests itself.
func TestTransportBudgetCountsEachRequestOnce(t *testing.T) {
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	for _, tc := range []struct {
		name        string
		maxAttempts int
		// requests counted for 10 successes and one request failing
		// every attempt.
		want int64
	}{
		{"retry and hedge", 3, 11},
		{"hedge alone", 1, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget, err := backoff.NewBudget(backoff.BudgetConfig{MinPerSecond: 100})
			require.NoError(t, err)
			c, _, _ := trClient(t, httpx.TransportConfig{Budget: budget, MaxAttempts: tc.maxAttempts,
				HedgeDelay: time.Hour})
			read := trReader(t)
			for range 10 {
				code, _ := read(c.Get(srv.URL))
				require.Equal(t, http.StatusOK, code)
			}
			code, _ := read(c.Get(srv.URL + "?fail=1"))
			require.Equal(t, http.StatusServiceUnavailable, code)
			s := budget.Snapshot()
			assert.Equal(t, tc.want, s.Requests, "requests counted")
			assert.Equal(t, int64(tc.maxAttempts-1), s.Retries, "retries granted")
		})
	}
}
