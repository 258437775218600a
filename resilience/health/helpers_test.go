package health_test

import (
	"context"
	"errors"
	"sync"
	"time"
)

var errDown = errors.New("bank: connection refused")

// script is a probe whose results are set by the test; it records when it ran.
type script struct {
	mu    sync.Mutex
	fail  bool
	times []time.Time
}

func (s *script) probe(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = append(s.times, time.Now())
	if s.fail {
		return errDown
	}
	return nil
}

func (s *script) set(fail bool) { s.mu.Lock(); s.fail = fail; s.mu.Unlock() }

func (s *script) ran() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

func healthy(context.Context) error { return nil }
func down(context.Context) error    { return errDown }

// holder is a health.Holder that records what a binding asks of it, and
// can decline holds as a breaker in a person's manual state does.
type holder struct {
	mu      sync.Mutex
	decline bool
	held    bool
	calls   []string
	after   time.Duration // the latest retry-after hint
	reasons []string
}

func (h *holder) HoldOpen(reason string, retryAfter time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.decline {
		h.calls = append(h.calls, "declined")
		return false
	}
	h.calls = append(h.calls, "hold")
	h.held, h.after = true, retryAfter
	h.reasons = append(h.reasons, reason)
	return true
}

func (h *holder) Release(reason string, closeNow bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	call := "release"
	if closeNow {
		call = "close"
	}
	h.calls = append(h.calls, call)
	h.reasons = append(h.reasons, reason)
	was := h.held
	h.held = false
	return was
}

func (h *holder) state() (held bool, after time.Duration, calls []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held, h.after, append([]string(nil), h.calls...)
}
