package httpx_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/httpx"
)

// failOnce answers the first attempt of each request (told apart by its
// X-Request-Id) with a 503 and a 4 KiB body, and the next with 200: each
// request through the transport is retried once, whatever the others do.
func failOnce() http.HandlerFunc {
	var seen sync.Map
	busy := strings.Repeat("b", 4<<10)
	return func(w http.ResponseWriter, r *http.Request) {
		if _, again := seen.LoadOrStore(r.Header.Get("X-Request-Id"), true); !again {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, busy)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}
}

// trGetID sends a GET carrying X-Request-Id: id, and reads the response.
func trGetID(c *http.Client, url string, id int) trResult {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return trResult{err: err}
	}
	req.Header.Set("X-Request-Id", strconv.Itoa(id))
	resp, err := c.Do(req)
	if err != nil {
		return trResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return trResult{code: resp.StatusCode, body: string(b), err: err}
}

// Each retried response is drained and closed, so its connection serves
// the retry and the next request: 1,000 retried requests, one after the
// other, dial once.
func TestTransportReusesConnectionsAcrossRetries(t *testing.T) {
	trNoGoroutineLeak(t)
	srv := trServer(t, failOnce())
	client, _, base := trClient(t, httpx.TransportConfig{})
	for i := range 1000 {
		r := trGetID(client, srv.URL, i)
		require.NoError(t, r.err)
		require.Equal(t, "ok", r.body)
	}
	assert.Equal(t, int64(1), base.dials.Load())
}

// The same from several goroutines at once: each holds at most one
// connection at a time, so the dials stay near the number of goroutines
// (net/http may dial while an idle connection is on its way back).
func TestTransportReusesConnectionsUnderConcurrency(t *testing.T) {
	trNoGoroutineLeak(t)
	srv := trServer(t, failOnce())
	client, _, base := trClient(t, httpx.TransportConfig{})
	const workers = 4
	var wg sync.WaitGroup
	results := make(chan trResult, 1000)
	for w := range workers {
		wg.Go(func() {
			for i := range 1000 / workers {
				results <- trGetID(client, srv.URL, w*1000+i)
			}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		require.NoError(t, r.err)
		require.Equal(t, "ok", r.body)
	}
	assert.LessOrEqual(t, base.dials.Load(), int64(2*workers))
}

// The dial count above can fail: a client that leaves failed responses
// unread and open dials once per request.
func TestDialCountSeesLeakedConnections(t *testing.T) {
	srv := trServer(t, failOnce())
	base := newTrBase()
	t.Cleanup(base.CloseIdleConnections)
	client := &http.Client{Transport: base}
	var open []io.Closer
	for i := range 50 {
		for range 2 { // a request and its retry, by hand
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("X-Request-Id", strconv.Itoa(i))
			resp, err := client.Do(req)
			require.NoError(t, err)
			if resp.StatusCode == 200 {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				continue
			}
			open = append(open, resp.Body) // a retry that forgot the body
		}
	}
	require.Len(t, open, 50)
	assert.Equal(t, int64(51), base.dials.Load(), "each forgotten body holds a connection")
	for _, c := range open {
		_ = c.Close()
	}
}
