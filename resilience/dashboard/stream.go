package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// writeTimeout bounds one write to a stream client. A client dropped while
// its connection is stuck in a write is closed when the write gives up;
// the rest of the service never waits for it.
const writeTimeout = 10 * time.Second

// retryMillis tells a browser how long to wait before reconnecting a
// stream that broke.
const retryMillis = 2000

// client is one event stream. Frames reach it through ch, which
// broadcasts never block on: a client whose ch is full is dropped.
type client struct {
	ch   chan []byte
	gone chan struct{} // closed when the client is dropped
}

// frame encodes one Server-Sent Event. encoding/json escapes line breaks
// inside strings, so the data is one line and needs no splitting.
func frame(event string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(data) + len(event) + 16)
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes(), nil
}

// broadcast queues f for every client.
func (d *Dashboard) broadcast(f []byte) {
	d.mu.Lock()
	d.broadcastLocked(f)
	d.mu.Unlock()
}

// broadcastLocked queues f for every client, dropping those that cannot
// take it. Every client shares f, so the frames waiting in all buffers
// cost ClientBuffer frames at most, however many clients there are.
// d.mu must be held.
func (d *Dashboard) broadcastLocked(f []byte) {
	for c := range d.clients {
		select {
		case c.ch <- f:
		default:
			d.drop(c, true)
		}
	}
}

// drop forgets c and tells its stream to end. d.mu must be held.
func (d *Dashboard) drop(c *client, behind bool) {
	if _, ok := d.clients[c]; !ok {
		return
	}
	delete(d.clients, c)
	close(c.gone)
	if behind {
		d.dropped++
	}
}

// subscribe registers a new client and returns the snapshot, timelines
// included, its stream begins with, or returns a nil client when the
// dashboard is closed or serves MaxClients streams already.
//
// The client joins under the lock that copies the timelines, so every
// change is either in its snapshot or queued for it after, never both
// nor neither.
func (d *Dashboard) subscribe() (*client, Snapshot) {
	if !d.room() { // a refused client costs no snapshot
		return nil, Snapshot{}
	}
	s := d.collect()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.roomLocked() {
		return nil, s
	}
	c := &client{ch: make(chan []byte, ClientBuffer), gone: make(chan struct{})}
	d.observeLocked(&s, true)
	d.clients[c] = struct{}{}
	s.Clients = len(d.clients)
	return c, s
}

// room reports whether another client may join.
func (d *Dashboard) room() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.roomLocked()
}

func (d *Dashboard) roomLocked() bool { return !d.closed && len(d.clients) < d.cfg.MaxClients }

func (d *Dashboard) unsubscribe(c *client) {
	d.mu.Lock()
	d.drop(c, false)
	d.mu.Unlock()
}

// lifetime reads ?max=…: how long the client wants the stream, capped at
// MaxStreamLifetime; zero means until the client leaves.
func lifetime(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("max")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("dashboard: max must be a positive duration such as 30s, got %q", v)
	}
	return min(d, MaxStreamLifetime), nil
}

// serveEvents streams a snapshot with the timelines, then every change and
// sample as they come. A stream asked to end (?max=…) says so with an
// "end" event, which the page takes as a sign not to reconnect.
func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	life, err := lifetime(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c, s := d.subscribe()
	if c == nil {
		w.Header().Set("Retry-After", strconv.Itoa(retryMillis/1000))
		http.Error(w, "dashboard: closed, or serving as many streams as it may", http.StatusServiceUnavailable)
		return
	}
	defer d.unsubscribe(c)
	first, err := frame("snapshot", s)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy must not hold the stream back
	out := &sender{w: w, rc: http.NewResponseController(w)}
	defer out.done()
	if !out.send([]byte("retry: "+strconv.Itoa(retryMillis)+"\n\n"), first) {
		return
	}
	d.stream(out, c, r, life)
}

// stream forwards c's frames to out until the client leaves, is dropped,
// the dashboard closes or the lifetime ends.
func (d *Dashboard) stream(out *sender, c *client, r *http.Request, life time.Duration) {
	var end <-chan time.Time
	if life > 0 {
		t := d.cfg.Clock.Timer(life)
		defer t.Stop()
		end = t.C
	}
	for {
		// A dropped client may still have frames queued; it gets none.
		select {
		case <-c.gone:
			return
		case <-d.stop:
			return
		default:
		}
		select {
		case f := <-c.ch:
			if !out.send(f) {
				return
			}
		case <-end:
			out.send([]byte("event: end\ndata: {\"reason\":\"max lifetime\"}\n\n"))
			return
		case <-c.gone:
			return
		case <-d.stop:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// sender writes frames to one client, each within writeTimeout.
type sender struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// send writes and flushes the frames, and reports whether they went out.
func (s *sender) send(frames ...[]byte) bool {
	// Deadlines are wall-clock times on the connection, whatever the
	// dashboard's clock; a writer without deadlines is written to as is.
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	for _, f := range frames {
		if _, err := s.w.Write(f); err != nil {
			return false
		}
	}
	return s.rc.Flush() == nil
}

// done clears the deadline, so a connection kept alive for another
// request does not inherit it.
func (s *sender) done() { _ = s.rc.SetWriteDeadline(time.Time{}) }
