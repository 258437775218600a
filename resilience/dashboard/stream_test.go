package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/dashboard"
)

// TestStreamFraming follows one stream with a bounded lifetime: the retry
// hint, a snapshot with timelines, a change as it happens, a sample every
// Interval, then "end".
func TestStreamFraming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := &breaker.Registry{}
		d, err := dashboard.New(dashboard.Config{Registry: reg})
		require.NoError(t, err)
		bank := newBreaker(t, reg, "bank", breaker.Config{}, d.Listener())
		d.Start()
		defer d.Close()

		w := newStreamWriter()
		done := serveStream(t.Context(), d, w, "?max=3500ms")
		synctest.Wait()
		bank.ForceOpen()
		time.Sleep(4 * time.Second)
		<-done

		assert.Equal(t, http.StatusOK, w.status)
		assert.Equal(t, "text/event-stream", w.header.Get("Content-Type"))
		assert.Equal(t, "no-store", w.header.Get("Cache-Control"))
		events := w.events(t)
		var names []string
		for _, e := range events {
			names = append(names, e.Event)
		}
		require.Equal(t, []string{"", "snapshot", "change", "sample", "sample", "sample", "end"}, names)
		assert.Equal(t, "2000", events[0].Retry)

		first := decode(t, events[1].Data)
		require.Len(t, first.Breakers, 1)
		assert.Equal(t, []string{"closed"}, states(first.Breakers[0].Timeline), "the snapshot carries the timeline")
		assert.Equal(t, 1, first.Clients, "the stream counts itself")

		var c struct {
			Kind, Name string
			Transition dashboard.Transition
		}
		require.NoError(t, json.Unmarshal([]byte(events[2].Data), &c))
		assert.Equal(t, "breaker", c.Kind)
		assert.Equal(t, "bank", c.Name)
		assert.Equal(t, "forced_open", c.Transition.State)
		assert.Equal(t, "forced open", c.Transition.Reason)

		sample := decode(t, events[3].Data)
		assert.Equal(t, "forced_open", sample.Breakers[0].Snapshot.State)
		assert.Empty(t, sample.Breakers[0].Timeline, "samples leave timelines out")
		assert.JSONEq(t, `{"reason":"max lifetime"}`, events[6].Data)
	})
}

// TestSamplerStreamsChangesItFinds: without the listener, the sampler
// streams a change it finds before the sample that shows it.
func TestSamplerStreamsChangesItFinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := &breaker.Registry{}
		d, err := dashboard.New(dashboard.Config{Registry: reg})
		require.NoError(t, err)
		bank := newBreaker(t, reg, "bank", breaker.Config{})
		d.Start()
		defer d.Close()

		w := newStreamWriter()
		done := serveStream(t.Context(), d, w, "?max=1500ms")
		synctest.Wait()
		bank.ForceOpen()
		<-done
		var names []string
		for _, e := range w.events(t) {
			names = append(names, e.Event)
		}
		assert.Equal(t, []string{"", "snapshot", "change", "sample", "end"}, names)
	})
}

// TestSlowClientDropped: a client that stopped reading is dropped once its
// buffer is full, while another client keeps receiving every sample.
func TestSlowClientDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, err := dashboard.New(dashboard.Config{Registry: &breaker.Registry{}})
		require.NoError(t, err)
		d.Start()
		defer d.Close()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()

		stuck := newStreamWriter()
		stuck.block = make(chan struct{})
		stuckDone := serveStream(ctx, d, stuck, "")
		good := newStreamWriter()
		goodDone := serveStream(ctx, d, good, "")
		synctest.Wait()
		require.Equal(t, 2, d.Snapshot().Clients)

		samples := dashboard.ClientBuffer + 5
		time.Sleep(time.Duration(samples) * time.Second)
		synctest.Wait()
		s := d.Snapshot()
		assert.Equal(t, 1, s.Clients, "the stuck client is gone")
		assert.Equal(t, uint64(1), s.DroppedClients)
		assert.Len(t, named(good.events(t), "sample"), samples, "the other client missed nothing")
		select {
		case <-stuckDone:
			t.Fatal("the stuck handler cannot return while its write is stuck")
		default:
		}

		close(stuck.block) // the write gives up, as a write deadline makes it
		<-stuckDone
		assert.Empty(t, named(stuck.events(t), "sample"), "nothing more was sent to the dropped client")

		time.Sleep(time.Second)
		synctest.Wait()
		assert.Len(t, named(good.events(t), "sample"), samples+1)
		cancel()
		<-goodDone
		assert.Equal(t, 0, d.Snapshot().Clients)
	})
}

func TestStreamRefusals(t *testing.T) {
	d, err := dashboard.New(dashboard.Config{MaxClients: 1})
	require.NoError(t, err)
	for _, q := range []string{"?max=soon", "?max=0s", "?max=-1s"} {
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events"+q, nil))
		assert.Equal(t, http.StatusBadRequest, rec.Code, q)
		assert.Contains(t, rec.Body.String(), "max must be a positive duration", q)
	}

	synctest.Test(t, func(t *testing.T) {
		d, err := dashboard.New(dashboard.Config{MaxClients: 1})
		require.NoError(t, err)
		w := newStreamWriter()
		done := serveStream(t.Context(), d, w, "?max=1000h")
		synctest.Wait()

		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events", nil))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "past MaxClients")
		assert.Equal(t, "2", rec.Header().Get("Retry-After"))

		start := time.Now()
		<-done
		assert.Equal(t, dashboard.MaxStreamLifetime, time.Since(start), "a long max is capped")
		assert.Len(t, named(w.events(t), "end"), 1)
	})
}

// TestCloseEndsStreams: Close ends every stream and waits for the
// sampler; the page and /snapshot stay, new streams are refused.
func TestCloseEndsStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, err := dashboard.New(dashboard.Config{})
		require.NoError(t, err)
		d.Start()
		d.Start() // a second Start does nothing
		w := newStreamWriter()
		done := serveStream(t.Context(), d, w, "")
		synctest.Wait()
		d.Close()
		<-done
		d.Close()
		d.Start() // nor does Start after Close

		for path, code := range map[string]int{"/events": 503, "/snapshot": 200, "/": 200} {
			rec := httptest.NewRecorder()
			d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			assert.Equal(t, code, rec.Code, path)
		}
	})
}

// TestStreamOverSocket reads a stream through a real server, where write
// deadlines apply, and leaves by closing the connection.
func TestStreamOverSocket(t *testing.T) {
	reg := &breaker.Registry{}
	d, err := dashboard.New(dashboard.Config{Registry: reg})
	require.NoError(t, err)
	newBreaker(t, reg, "bank", breaker.Config{}).ForceOpen()
	srv := httptest.NewServer(d)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)
	var text strings.Builder
	for !strings.Contains(text.String(), "event: snapshot\n") || !strings.HasSuffix(text.String(), "\n\n") {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		text.WriteString(line)
	}
	events := parseSSE(t, text.String())
	require.Len(t, events, 2)
	w := decode(t, events[1].Data)
	require.Len(t, w.Breakers, 1)
	assert.Equal(t, "forced_open", w.Breakers[0].Snapshot.State)
}
