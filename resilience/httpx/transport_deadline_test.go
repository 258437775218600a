package httpx_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// seenCtx is what a base RoundTripper saw of its request's context once
// it ended: the deadline it reported, and the errors of the context and
// of contexts derived from it.
type seenCtx struct {
	deadline    time.Time
	hasDeadline bool
	err         error // the request context's
	derived     error // a context.WithCancel child's
	derivedLong error // a context.WithTimeout child's, with a later deadline
	cause       error // context.Cause of the WithCancel child
	derivedLast error // a child made after more children than are kept inline
}

// hangingBase waits for its request's context to end, as a server that
// never answers would keep it waiting, and reports what it saw.
func hangingBase(seen chan<- seenCtx) roundTripFunc {
	return func(r *http.Request) (*http.Response, error) {
		ctx := r.Context()
		var s seenCtx
		s.deadline, s.hasDeadline = ctx.Deadline()
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		long, cancelLong := context.WithTimeout(ctx, time.Hour)
		defer cancelLong()
		// More children than the context keeps inline, one of them
		// cancelled early (it unregisters itself).
		_, cancelEarly := context.WithCancel(ctx)
		cancelEarly()
		last, cancelLast := context.WithCancel(ctx)
		defer cancelLast()
		<-child.Done()
		<-long.Done()
		<-last.Done()
		s.err, s.derived, s.derivedLong, s.cause = ctx.Err(), child.Err(), long.Err(), context.Cause(child)
		s.derivedLast = last.Err()
		seen <- s
		return nil, ctx.Err()
	}
}

// AttemptTimeout gives the attempt's context a real deadline: the base
// sees it, and it ends the context and every context derived from it with
// DeadlineExceeded (not Canceled), on the real clock and on a mock one,
// hedged or not.
func TestTransportAttemptTimeoutIsADeadline(t *testing.T) {
	for _, tc := range []struct {
		name         string
		mock, hedged bool
	}{{"real clock", false, false}, {"mock clock", true, false}, {"hedged", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mock *clock.Mock
				cfg := httpx.TransportConfig{MaxAttempts: 1, AttemptTimeout: 2 * time.Second}
				start := time.Now()
				if tc.hedged {
					cfg.HedgeDelay = time.Hour
				}
				if tc.mock {
					mock = clock.NewMock()
					cfg.Clock, start = mock, mock.Now()
				}
				seen := make(chan seenCtx, 1)
				cfg.Base = hangingBase(seen)
				tr, err := httpx.NewTransport(cfg)
				require.NoError(t, err)

				got := make(chan error, 1)
				go func() {
					_, err := (&http.Client{Transport: tr}).Get("http://fx.test/rate")
					got <- err
				}()
				if tc.mock {
					synctest.Wait() // the base waits on its context
					mock.Add(2 * time.Second)
				}
				s := <-seen
				require.True(t, s.hasDeadline, "the attempt's context has a deadline")
				assert.Equal(t, start.Add(2*time.Second), s.deadline)
				assert.ErrorIs(t, s.err, context.DeadlineExceeded)
				assert.ErrorIs(t, s.derived, context.DeadlineExceeded)
				assert.ErrorIs(t, s.derivedLong, context.DeadlineExceeded)
				assert.ErrorIs(t, s.cause, context.DeadlineExceeded)
				assert.ErrorIs(t, s.derivedLast, context.DeadlineExceeded)

				err = <-got
				assert.ErrorIs(t, err, timeout.ErrTimeout)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			})
		})
	}
}

// Once the headers are in, the attempt's context drops its deadline: the
// body can be read after it, and the context ends when the body is closed.
func TestTransportAttemptDeadlineEndsWithTheHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var reqCtx context.Context
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			reqCtx = r.Context()
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
				Body: io.NopCloser(strings.NewReader("0.9215")), Request: r}, nil
		})
		tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base, AttemptTimeout: time.Second})
		require.NoError(t, err)
		resp, err := (&http.Client{Transport: tr}).Get("http://fx.test/rate")
		require.NoError(t, err)

		_, has := reqCtx.Deadline()
		assert.False(t, has, "no deadline after the headers")
		time.Sleep(time.Hour) // fake time, inside the bubble
		assert.NoError(t, reqCtx.Err())
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, "0.9215", string(body))
		require.NoError(t, resp.Body.Close())
		assert.ErrorIs(t, reqCtx.Err(), context.Canceled, "closing the body releases the context")
	})
}

// Over a real socket, net/http itself sees the deadline: the error it
// returns for the attempt is DeadlineExceeded. No timing is asserted.
func TestTransportAttemptTimeoutReachesNetHTTP(t *testing.T) {
	trNoGoroutineLeak(t)
	stop := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	trCloseAtEnd(t, stop)
	base := newTrBase()
	t.Cleanup(base.CloseIdleConnections)
	baseErr := make(chan error, 1)
	record := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		baseErr <- errors.Join(err, r.Context().Err())
		return resp, err
	})
	client, _, _ := trClient(t, httpx.TransportConfig{Base: record, MaxAttempts: 1, AttemptTimeout: 100 * time.Millisecond})

	_, err := client.Get(srv.URL)
	require.ErrorIs(t, err, timeout.ErrTimeout)
	seen := trWait(t, baseErr, "the base's error")
	assert.ErrorIs(t, seen, context.DeadlineExceeded)
	assert.NotErrorIs(t, seen, context.Canceled)
}
