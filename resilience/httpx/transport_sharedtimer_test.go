package httpx_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// ctxBody is a response body whose reads wait until its request's context
// ends, as a server that stops sending halfway would keep them waiting.
type ctxBody struct{ ctx context.Context }

func (b ctxBody) Read([]byte) (int, error) { <-b.ctx.Done(); return 0, b.ctx.Err() }
func (ctxBody) Close() error               { return nil }

// attemptEnd records when and how each attempt's context ended.
type attemptEnd struct {
	after time.Duration // since the request started
	err   error
}

// With Timeout and AttemptTimeout on the real clock a request has one
// runtime timer for both (see deadlineTimer). Each deadline must still
// end its own context at its own time, in either order, and an
// attempt's deadline must stop counting once its headers are in. The
// scripted base hangs its first attempt until its context ends, then
// answers the others at once with a body that never ends.
func TestTransportSharedTimerEndsEachDeadlineInTurn(t *testing.T) {
	for _, tc := range []struct {
		name           string
		attempt, total time.Duration
		firstHangs     bool
		wantAttempts   []attemptEnd // every attempt's end, in order
		wantRoundTrip  error        // nil: RoundTrip answers, and the body read fails with wantBody
		wantBody       time.Duration
	}{
		{
			name: "the attempt's deadline first, then Timeout ends the body", attempt: time.Second, total: 10 * time.Second,
			firstHangs: true,
			wantAttempts: []attemptEnd{
				{time.Second, context.DeadlineExceeded},      // its own deadline, not Timeout's
				{10 * time.Second, context.DeadlineExceeded}, // with the request, body unread
			},
			wantBody: 10 * time.Second,
		},
		{
			name: "the headers in, the attempt's deadline passes unnoticed", attempt: time.Second, total: 3 * time.Second,
			wantAttempts: []attemptEnd{{3 * time.Second, context.DeadlineExceeded}},
			wantBody:     3 * time.Second,
		},
		{
			name: "Timeout first", attempt: 5 * time.Second, total: 2 * time.Second, firstHangs: true,
			wantAttempts:  []attemptEnd{{2 * time.Second, context.DeadlineExceeded}},
			wantRoundTrip: timeout.ErrTimeout,
		},
		{
			name: "the same instant", attempt: 2 * time.Second, total: 2 * time.Second, firstHangs: true,
			wantAttempts:  []attemptEnd{{2 * time.Second, context.DeadlineExceeded}},
			wantRoundTrip: timeout.ErrTimeout,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var n atomic.Int32
				ends := make(chan attemptEnd, 4)
				base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
					ctx := r.Context()
					context.AfterFunc(ctx, func() { ends <- attemptEnd{time.Since(start), ctx.Err()} })
					if n.Add(1) == 1 && tc.firstHangs {
						<-ctx.Done()
						return nil, ctx.Err()
					}
					return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
						Body: ctxBody{ctx}, Request: r}, nil
				})
				tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base, AttemptTimeout: tc.attempt,
					Timeout: tc.total, Backoff: backoff.Constant(0)})
				require.NoError(t, err)
				req, err := http.NewRequest(http.MethodGet, "http://fx.test/rate", nil)
				require.NoError(t, err)

				resp, err := tr.RoundTrip(req)
				if tc.wantRoundTrip != nil {
					require.ErrorIs(t, err, tc.wantRoundTrip)
					assert.Equal(t, tc.total, time.Since(start), "RoundTrip ends at Timeout")
				} else {
					require.NoError(t, err)
					_, err = io.ReadAll(resp.Body)
					assert.ErrorIs(t, err, timeout.ErrTimeout, "the body read ends at Timeout")
					assert.Equal(t, tc.wantBody, time.Since(start), "when the body read ends")
					_ = resp.Body.Close()
				}
				synctest.Wait()
				close(ends)
				var got []attemptEnd
				for e := range ends {
					got = append(got, e)
				}
				require.Len(t, got, len(tc.wantAttempts))
				for i, want := range tc.wantAttempts {
					assert.Equal(t, want.after, got[i].after, "attempt %d ends at", i+1)
					assert.ErrorIs(t, got[i].err, want.err, "attempt %d ends with", i+1)
				}
			})
		})
	}
}

// A request answered in time stops its one timer when its body is
// closed: nothing fires at its deadlines. The pooled timer then serves
// the next request, whose body stays readable past its own attempt
// deadline.
func TestTransportSharedTimerStopsWithTheBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen []context.Context
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = append(seen, r.Context())
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
				Body: io.NopCloser(strings.NewReader("0.9215")), Request: r}, nil
		})
		tr, err := httpx.NewTransport(httpx.TransportConfig{Base: base, AttemptTimeout: time.Second, Timeout: time.Minute})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodGet, "http://fx.test/rate", nil)
		require.NoError(t, err)

		first, err := tr.RoundTrip(req)
		require.NoError(t, err)
		require.NoError(t, first.Body.Close())
		assert.ErrorIs(t, seen[0].Err(), context.Canceled, "released with the body, not at a deadline")

		time.Sleep(1500 * time.Millisecond) // past the first request's attempt deadline
		synctest.Wait()
		second, err := tr.RoundTrip(req)
		require.NoError(t, err)
		time.Sleep(1500 * time.Millisecond) // past the second's attempt deadline
		synctest.Wait()
		assert.NoError(t, seen[1].Err(), "the second request's context lives on")
		b, err := io.ReadAll(second.Body)
		require.NoError(t, err)
		assert.Equal(t, "0.9215", string(b))
		require.NoError(t, second.Body.Close())
		assert.ErrorIs(t, seen[1].Err(), context.Canceled)
	})
}
