package httpx_test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// The first attempt hangs; AttemptTimeout ends it (on a mock clock) and
// the retry gets the answer. The server sees the first request cancelled.
func TestTransportAttemptTimeoutRetries(t *testing.T) {
	trNoGoroutineLeak(t)
	var n atomic.Int32
	arrived, cancelled := make(chan struct{}), make(chan struct{})
	stop := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			close(arrived)
			select {
			case <-r.Context().Done():
				close(cancelled)
			case <-stop:
			}
			return
		}
		_, _ = io.WriteString(w, "second")
	})
	trCloseAtEnd(t, stop)
	mock := clock.NewMock()
	client, _, _ := trClient(t, httpx.TransportConfig{AttemptTimeout: time.Second, Clock: mock})
	got := make(chan trResult, 1)
	go func() { got <- trGet(client, srv.URL) }()
	<-arrived
	mock.Add(time.Second)

	r := trWait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, "second", r.body)
	trWait(t, cancelled, "the losing request's cancellation")
	assert.Equal(t, int32(2), n.Load())
}

func TestTransportAttemptTimeoutIsAFailure(t *testing.T) {
	trNoGoroutineLeak(t)
	arrived := make(chan struct{})
	stop := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	trCloseAtEnd(t, stop)
	mock := clock.NewMock()
	client, tr, _ := trClient(t, httpx.TransportConfig{MaxAttempts: 1, AttemptTimeout: time.Second, Clock: mock})
	got := make(chan trResult, 1)
	go func() { got <- trGet(client, srv.URL) }()
	<-arrived
	mock.Add(time.Second)

	err := trWait(t, got, "the response").err
	require.ErrorIs(t, err, timeout.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	br, _ := tr.Breaker(trHost(t, srv))
	assert.Equal(t, uint64(1), br.Snapshot().Failures)
}

// AttemptTimeout bounds the wait for the headers only: a body read long
// after it would have fired still arrives whole.
func TestTransportAttemptTimeoutSparesTheBody(t *testing.T) {
	trNoGoroutineLeak(t)
	release := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "head ")
		http.NewResponseController(w).Flush()
		<-release
		_, _ = io.WriteString(w, "tail")
	})
	mock := clock.NewMock()
	client, _, _ := trClient(t, httpx.TransportConfig{AttemptTimeout: time.Second, Clock: mock})

	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	mock.Add(time.Hour)
	close(release)
	_, body := trReader(t)(resp, nil)
	assert.Equal(t, "head tail", body)
}

func TestTransportTimeoutBoundsTheWholeRequest(t *testing.T) {
	trNoGoroutineLeak(t)
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			_, _ = io.WriteString(w, "head ")
			http.NewResponseController(w).Flush()
		}
		<-r.Context().Done()
	})
	// Over a real socket: the deadline is a real one, and no timing is
	// asserted.
	client, tr, _ := trClient(t, httpx.TransportConfig{Timeout: 500 * time.Millisecond, MaxAttempts: 1,
		Breaker: breaker.Config{ConsecutiveFailures: 9}})

	_, err := client.Get(srv.URL + "/headers")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, timeout.ErrTimeout)
	br, _ := tr.Breaker(trHost(t, srv))
	assert.Equal(t, uint64(1), br.Snapshot().Failures, "a deadline passing in flight is the server's failure")

	resp, err := client.Get(srv.URL + "/body")
	require.NoError(t, err, "the headers come in time")
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, timeout.ErrTimeout, "the rest of the body does not")
}
