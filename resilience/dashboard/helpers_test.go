package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/dashboard"
)

// streamWriter is a ResponseWriter for event streams served without a
// socket. With block set, every Write waits until block is closed: a
// client that stopped reading.
type streamWriter struct {
	block chan struct{}

	mu     sync.Mutex // protects header, status and buf
	header http.Header
	status int
	buf    bytes.Buffer
}

func newStreamWriter() *streamWriter { return &streamWriter{header: http.Header{}} }

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status == 0 {
		w.status = code
	}
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if w.block != nil {
		<-w.block
	}
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *streamWriter) Flush() {}

// events parses what was written as Server-Sent Events.
func (w *streamWriter) events(t *testing.T) []sse {
	w.mu.Lock()
	text := w.buf.String()
	w.mu.Unlock()
	return parseSSE(t, text)
}

// sse is one event of a stream; a block with only a retry field has
// Event "" and Retry set.
type sse struct {
	Event, Data, Retry string
}

// parseSSE splits text into events, refusing anything that is not
// well-formed framing: every block ends with a blank line, every line is a
// known field.
func parseSSE(t *testing.T, text string) []sse {
	t.Helper()
	var out []sse
	blocks := strings.Split(text, "\n\n")
	require.Empty(t, blocks[len(blocks)-1], "the stream ends in the middle of an event: %q", blocks[len(blocks)-1])
	for _, b := range blocks[:len(blocks)-1] {
		var e sse
		for _, line := range strings.Split(b, "\n") {
			field, value, ok := strings.Cut(line, ": ")
			require.True(t, ok, "line %q has no field", line)
			switch field {
			case "event":
				e.Event = value
			case "data":
				require.Empty(t, e.Data, "an event has two data lines")
				e.Data = value
			case "retry":
				e.Retry = value
			default:
				t.Fatalf("unknown field in line %q", line)
			}
		}
		out = append(out, e)
	}
	return out
}

// named returns the events called name.
func named(events []sse, name string) []sse {
	var out []sse
	for _, e := range events {
		if e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// serveStream serves /events (with query q) to w on a goroutine until
// ctx ends or the stream does; done is closed when the handler returns.
func serveStream(ctx context.Context, d *dashboard.Dashboard, w http.ResponseWriter, q string) (done chan struct{}) {
	done = make(chan struct{})
	r := httptest.NewRequest(http.MethodGet, "/events"+q, nil).WithContext(ctx)
	go func() {
		defer close(done)
		d.ServeHTTP(w, r)
	}()
	return done
}

// wire is the part of a dashboard snapshot's JSON the tests read.
type wire struct {
	Breakers []struct {
		Snapshot struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"snapshot"`
		Timeline []dashboard.Transition `json:"timeline"`
	} `json:"breakers"`
	Clients        int    `json:"clients"`
	DroppedClients uint64 `json:"dropped_clients"`
}

func decode(t *testing.T, data string) wire {
	t.Helper()
	var w wire
	require.NoError(t, json.Unmarshal([]byte(data), &w))
	return w
}

// states lists the states of a timeline.
func states(tl []dashboard.Transition) []string {
	out := make([]string, len(tl))
	for i, tr := range tl {
		out[i] = tr.State
	}
	return out
}

// timelineOf returns the timeline of the named breaker in s.
func timelineOf(t *testing.T, s dashboard.Snapshot, name string) []dashboard.Transition {
	t.Helper()
	for _, b := range s.Breakers {
		if b.Snapshot.Name == name {
			return b.Timeline
		}
	}
	t.Fatalf("no breaker %q in the snapshot", name)
	return nil
}

// newBreaker makes a breaker in reg that opens on its first failure and
// reports to the given listeners.
func newBreaker(t *testing.T, reg *breaker.Registry, name string, cfg breaker.Config, ls ...resilience.Listener) *breaker.Breaker {
	t.Helper()
	cfg.Listeners = ls
	if cfg.ConsecutiveFailures == 0 {
		cfg.ConsecutiveFailures = 1
	}
	b, err := reg.GetOrCreate(name, cfg)
	require.NoError(t, err)
	return b
}

// fail records one failed call through b.
func fail(t *testing.T, b *breaker.Breaker) {
	t.Helper()
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done(resilience.Failure)
}

// succeed records one successful call through b.
func succeed(t *testing.T, b *breaker.Breaker) {
	t.Helper()
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done(resilience.Success)
}
