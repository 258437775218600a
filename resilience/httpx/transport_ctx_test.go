package httpx_test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// Timeout's context is the transport's own: the base sees its deadline,
// and once it passes the context and every context derived from it end
// with DeadlineExceeded; the caller's error is a *timeout.Error.
func TestTransportTimeoutIsADeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  httpx.TransportConfig
	}{
		{"alone", httpx.TransportConfig{MaxAttempts: 1, Timeout: 2 * time.Second}},
		{"with a longer AttemptTimeout", httpx.TransportConfig{MaxAttempts: 1, Timeout: 2 * time.Second,
			AttemptTimeout: time.Hour}},
		{"hedged", httpx.TransportConfig{MaxAttempts: 1, Timeout: 2 * time.Second, HedgeDelay: time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				seen := make(chan seenCtx, 1)
				cfg := tc.cfg
				cfg.Base = hangingBase(seen)
				tr, err := httpx.NewTransport(cfg)
				require.NoError(t, err)

				_, err = (&http.Client{Transport: tr}).Get("http://fx.test/rate")
				s := <-seen
				require.True(t, s.hasDeadline, "the request's context has a deadline")
				assert.Equal(t, start.Add(2*time.Second), s.deadline)
				assert.ErrorIs(t, s.err, context.DeadlineExceeded)
				assert.ErrorIs(t, s.derived, context.DeadlineExceeded)
				assert.ErrorIs(t, s.derivedLong, context.DeadlineExceeded)
				assert.ErrorIs(t, s.derivedLast, context.DeadlineExceeded)
				assert.ErrorIs(t, err, timeout.ErrTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			})
		})
	}
}

// The caller's own deadline, earlier than Timeout, is the caller's: the
// error is not the transport's timeout.
func TestTransportCallersEarlierDeadlineIsNotATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seen := make(chan seenCtx, 1)
		tr, err := httpx.NewTransport(httpx.TransportConfig{MaxAttempts: 1, Timeout: time.Hour,
			Base: hangingBase(seen)})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://fx.test/rate", nil)
		require.NoError(t, err)

		_, err = (&http.Client{Transport: tr}).Do(req)
		s := <-seen
		assert.Equal(t, time.Now(), s.deadline, "the caller's deadline, the earlier")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, timeout.ErrTimeout)
	})
}

// With Timeout, a retry and hedging, each attempt of the retry runs a
// call of the hedger: in the second, the first attempt stalls, a hedge
// wins, and the stalled one is cancelled, though it started unlinked
// from its hedger (see enterHedged) as the first of its call.
func TestTransportHedgeAfterRetryCancelsTheLoser(t *testing.T) {
	trNoGoroutineLeak(t)
	var n atomic.Int32
	arrived, cancelled := make(chan struct{}), make(chan struct{})
	stop := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			close(arrived)
			select {
			case <-r.Context().Done():
				close(cancelled)
			case <-stop:
			}
		default:
			_, _ = io.WriteString(w, "hedge")
		}
	})
	trCloseAtEnd(t, stop)
	mock := clock.NewMock()
	client, _, _ := trClient(t, httpx.TransportConfig{MaxAttempts: 2, HedgeDelay: 10 * time.Millisecond,
		Timeout: time.Minute, Clock: mock})
	got := make(chan trResult, 1)
	go func() { got <- trGet(client, srv.URL) }()
	<-arrived
	mock.Add(10 * time.Millisecond)

	r := trWait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, "hedge", r.body)
	trWait(t, cancelled, "the losing request's cancellation")
	assert.Equal(t, int32(3), n.Load())
}
