package resiliencetest

import (
	"sync"

	"github.com/riprap-go/riprap/resilience"
)

// Recorder keeps every event delivered to its [Recorder.Listener], in the
// order they arrived, for a test to inspect.
//
// The zero value is ready to use. A Recorder is safe for concurrent use:
// policies deliver per-call events on their callers' goroutines.
type Recorder struct {
	mu     sync.Mutex // protects events
	events []resilience.Event
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Listener returns a listener subscribed to every kind of event that
// records them in r. Give it to a policy's configuration.
func (r *Recorder) Listener() resilience.Listener { return resilience.OnEvent(r.record) }

func (r *Recorder) record(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of the events recorded so far.
func (r *Recorder) Events() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resilience.Event(nil), r.events...)
}

// Kinds returns the kind of each event recorded so far, in order.
func (r *Recorder) Kinds() []resilience.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	kinds := make([]resilience.EventKind, len(r.events))
	for i, e := range r.events {
		kinds[i] = e.Kind
	}
	return kinds
}

// StateChanges returns the [resilience.EventStateChange] events recorded so
// far, in order, each written "from->to" with an ASCII arrow:
// "closed->open", "open->half-open". Other kinds are left out.
func (r *Recorder) StateChanges() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var changes []string
	for _, e := range r.events {
		if e.Kind == resilience.EventStateChange {
			changes = append(changes, e.From+"->"+e.To)
		}
	}
	return changes
}

// Count reports how many events of the given kind were recorded.
func (r *Recorder) Count(kind resilience.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// Reset forgets every event recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}
