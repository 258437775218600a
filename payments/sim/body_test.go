package sim_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression: the injector delayed a request before its body was read, and
// net/http notices a client that hung up only once the body is read, so a
// POST whose client gave up held its handler — and the server's Close — for
// the whole delay. The mock clock never moves here: only the client going
// away can end the delay.
func TestDelayedPostEndsWhenTheClientGivesUp(t *testing.T) {
	inj, err := sim.NewInjector(sim.InjectorConfig{Clock: clock.NewMock(),
		Faults: sim.Faults{Latency: sim.Latency{Fixed: time.Hour}}})
	require.NoError(t, err)
	reached := false
	srv := httptest.NewServer(inj.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader([]byte(`{"amount":"1.00 USD"}`)))
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for i := 0; i < 5_000_000 && inj.Stats().Requests == 0; i++ {
		runtime.Gosched() // until the request is inside the delay
	}
	cancel()
	require.Error(t, <-errc)
	for i := 0; i < 5_000_000 && inj.Stats().Cancelled == 0; i++ {
		runtime.Gosched()
	}
	assert.Equal(t, 1, inj.Stats().Cancelled, "the handler noticed the client leave")
	assert.False(t, reached, "a cancelled request is dropped unprocessed")
}
