package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// eventPrefix starts each line on which a node reports a state change of
// its bank breaker or of its connection to the fleet.
const eventPrefix = "FLEET-EVENT "

// readyPrefix starts the line on which a node reports its base URL, once
// it serves.
const readyPrefix = "FLEET-READY "

// nodeEvent is one state change a node reports, as a JSON line. At is
// the wall clock in Unix nanoseconds: processes on one host share it, so
// that the latency from one node's opening to another's hold can be read
// off two lines.
type nodeEvent struct {
	Instance string `json:"instance"`
	Policy   string `json:"policy"` // "breaker", or "riprapredis" for the fleet connection
	From     string `json:"from"`
	To       string `json:"to"`
	Reason   string `json:"reason,omitempty"`
	At       int64  `json:"at"`
}

// when returns At as a time.
func (e nodeEvent) when() time.Time { return time.Unix(0, e.At) }

// eventWriter writes a node's events to w, one line each. It is safe for
// concurrent use: listeners run on whichever goroutine made the change.
type eventWriter struct {
	instance string
	mu       sync.Mutex // protects w
	w        io.Writer
}

// emit writes e; a write error is dropped, since a node whose output is
// gone has nobody to report to.
func (ew *eventWriter) emit(e resilience.Event) {
	at := e.Time
	if at.IsZero() {
		at = time.Now()
	}
	line, err := json.Marshal(nodeEvent{Instance: ew.instance, Policy: e.Policy, From: e.From, To: e.To,
		Reason: e.Reason, At: at.UnixNano()})
	if err != nil {
		return
	}
	ew.mu.Lock()
	defer ew.mu.Unlock()
	_, _ = fmt.Fprintf(ew.w, "%s%s\n", eventPrefix, line)
}
