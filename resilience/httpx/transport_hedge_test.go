package httpx_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/httpx"
)

// The first request stalls; after HedgeDelay (on a mock clock) a second
// one goes out and answers; the first is cancelled.
func TestTransportHedgeWinsAndCancelsTheLoser(t *testing.T) {
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
		_, _ = io.WriteString(w, "hedge")
	})
	trCloseAtEnd(t, stop)
	mock := clock.NewMock()
	client, _, _ := trClient(t, httpx.TransportConfig{HedgeDelay: 10 * time.Millisecond, Clock: mock})
	got := make(chan trResult, 1)
	go func() { got <- trGet(client, srv.URL) }()
	<-arrived
	mock.Add(10 * time.Millisecond)

	r := trWait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, "hedge", r.body)
	trWait(t, cancelled, "the losing request's cancellation")
	assert.Equal(t, int32(2), n.Load())
}

// The first request answers 503 with a body still streaming while the
// hedge is under way; the hedge then answers 200 and wins. The losing
// response is closed: its server sees the connection go.
func TestTransportHedgeClosesTheLosingResponse(t *testing.T) {
	trNoGoroutineLeak(t)
	var n atomic.Int32
	arrived, hedged, firstFailed, loserClosed := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	stop := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			close(arrived)
			<-hedged
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "busy, and more to come")
			http.NewResponseController(w).Flush()
			select {
			case <-r.Context().Done():
				close(loserClosed)
			case <-stop:
			}
			return
		}
		close(hedged)
		<-firstFailed
		_, _ = io.WriteString(w, "hedge")
	})
	trCloseAtEnd(t, stop)
	var failures atomic.Int32
	onFailure := resilience.OnKinds(func(e resilience.Event) {
		if e.Policy == "breaker" && e.Outcome == resilience.Failure && failures.Add(1) == 1 {
			close(firstFailed) // the 503 is in the transport's hands
		}
	}, resilience.EventOutcome)
	mock := clock.NewMock()
	client, _, _ := trClient(t, httpx.TransportConfig{HedgeDelay: 10 * time.Millisecond, Clock: mock,
		Listeners: resilience.Listeners{onFailure}})
	got := make(chan trResult, 1)
	go func() { got <- trGet(client, srv.URL) }()
	<-arrived
	mock.Add(10 * time.Millisecond)

	r := trWait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, 200, r.code)
	assert.Equal(t, "hedge", r.body)
	trWait(t, loserClosed, "the losing response closed")
}

// The hedger cancels every attempt's context once the call is decided,
// the winner's included; the winner's body, streamed after that, must
// still arrive whole, whichever attempt won.
func TestTransportHedgeWinnersBodyOutlivesTheCall(t *testing.T) {
	for _, firstWins := range []bool{false, true} {
		name := map[bool]string{false: "the hedge wins", true: "the first attempt wins"}[firstWins]
		t.Run(name, func(t *testing.T) {
			trNoGoroutineLeak(t)
			var n atomic.Int32
			arrived, hedged, resume, stop := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
			srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
				first := n.Add(1) == 1
				if first {
					close(arrived)
					<-hedged
				} else {
					close(hedged)
				}
				if first != firstWins { // the loser waits to be cancelled
					select {
					case <-r.Context().Done():
					case <-stop:
					}
					return
				}
				_, _ = io.WriteString(w, "stre")
				http.NewResponseController(w).Flush()
				select {
				case <-resume:
				case <-stop:
				}
				_, _ = io.WriteString(w, "amed")
			})
			trCloseAtEnd(t, stop)
			mock := clock.NewMock()
			client, _, _ := trClient(t, httpx.TransportConfig{HedgeDelay: 10 * time.Millisecond, Clock: mock})
			type answer struct {
				resp *http.Response
				err  error
			}
			got := make(chan answer, 1)
			go func() {
				resp, err := client.Get(srv.URL)
				got <- answer{resp, err}
			}()
			<-arrived
			mock.Add(10 * time.Millisecond)

			a := trWait(t, got, "the response")
			require.NoError(t, a.err)
			close(resume)
			_, body := trReader(t)(a.resp, nil)
			assert.Equal(t, "streamed", body)
		})
	}
}

// A POST is not safe to repeat, so it is not hedged: the hedger's delay
// passes and nothing else is sent. A GET on the same transport is hedged,
// which shows the delay did pass.
func TestTransportDoesNotHedgeUnsafeRequests(t *testing.T) {
	trNoGoroutineLeak(t)
	var posts, gets atomic.Int32
	arrived, release := make(chan string, 4), make(chan struct{})
	stop := make(chan struct{})
	srv := trServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && posts.Add(1) == 1:
			arrived <- r.Method
			<-release
		case r.Method == http.MethodGet && gets.Add(1) == 1:
			arrived <- r.Method
			select { // until the hedge wins
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		_, _ = io.WriteString(w, r.Method)
	})
	trCloseAtEnd(t, stop)
	var hedges atomic.Int32
	onHedge := resilience.OnKinds(func(e resilience.Event) {
		if e.Policy == "hedge" {
			hedges.Add(1)
		}
	}, resilience.EventRetry)
	mock := clock.NewMock()
	client, _, _ := trClient(t, httpx.TransportConfig{HedgeDelay: 10 * time.Millisecond, Clock: mock,
		Listeners: resilience.Listeners{onHedge}})
	done := make(chan error, 1)
	go func() {
		resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("charge"))
		if err == nil {
			err = resp.Body.Close()
		}
		done <- err
	}()
	require.Equal(t, http.MethodPost, <-arrived)
	mock.Add(time.Second)
	close(release)
	require.NoError(t, trWait(t, done, "the response"))
	assert.Equal(t, int32(1), posts.Load())
	assert.Zero(t, hedges.Load())

	got := make(chan trResult, 1)
	go func() { got <- trGet(client, srv.URL) }()
	require.Equal(t, http.MethodGet, <-arrived)
	mock.Add(time.Second)
	r := trWait(t, got, "the response")
	require.NoError(t, r.err)
	assert.Equal(t, "GET", r.body)
	assert.Equal(t, int32(1), hedges.Load())
	assert.Equal(t, int32(2), gets.Load())
}
