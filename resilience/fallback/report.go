package fallback

import (
	"context"
	"sync"
	"time"
)

// Report tells a caller whether the result it got came from a fallback,
// which answer came back (its position in a [Chain], the age of a
// [LastGood] value) and what it answered for. Get one from [WithReport],
// pass the context to the call, and read the report after the call
// returns.
//
// A fallback's answer comes back with a nil error, so this is the one
// place a caller learns that it got a substitute. The report travels in
// the context because the fallback may sit anywhere in a pipeline, the
// pipeline's result is the caller's own type, and an error would turn the
// answer back into a failure. It carries information out of the call,
// never arguments into it: the policies work the same without one, and a
// caller that does not ask pays nothing. Listeners get the same facts as
// an [resilience.EventFallback].
//
// A nil *Report reads as "not used". It is safe for concurrent use, but
// when several calls share a context their reports merge; give each call
// its own.
type Report struct {
	mu    sync.Mutex // protects the fields below
	used  bool
	cause error
	level int
	age   time.Duration
}

type reportKey struct{}

// WithReport returns a context carrying a fresh report.
func WithReport(ctx context.Context) (context.Context, *Report) {
	r := &Report{}
	return context.WithValue(ctx, reportKey{}, r), r
}

func reportFrom(ctx context.Context) *Report {
	r, _ := ctx.Value(reportKey{}).(*Report)
	return r
}

// Used reports whether a fallback answered.
func (r *Report) Used() bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used
}

// Cause returns the error the fallback answered for, or nil.
func (r *Report) Cause() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cause
}

// Level returns the position in a [Chain] of the alternative that answered
// (0 for the first, and for a single alternative).
func (r *Report) Level() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.level
}

// Age returns how old the value was when a [LastGood] answered; 0 for other
// alternatives.
func (r *Report) Age() time.Duration {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.age
}

func (r *Report) markUsed(cause error) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.used, r.cause = true, cause
	r.mu.Unlock()
}

func (r *Report) setLevel(i int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.level = i
	r.mu.Unlock()
}

func (r *Report) setAge(d time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.age = d
	r.mu.Unlock()
}
