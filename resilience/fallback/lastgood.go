package fallback

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
)

// ErrNoValue is returned by [LastGood.Alternative] when no good value has
// been seen yet; ErrStale when the last one is older than the maximum age.
var (
	ErrNoValue = errors.New("fallback: no good value seen yet")
	ErrStale   = errors.New("fallback: last good value too old")
)

// LastGood remembers the most recent good result and offers it as an
// alternative while it is younger than a maximum age: the FX quote of a
// minute ago is better than no quote. Feed it with [LastGood.Observe] (the
// fallback policy does so when [Config.Observe] is set to it).
//
// Its zero value is not usable; create it with [NewLastGood]. It is safe
// for concurrent use; Observe is one clock read and one small allocation.
type LastGood[T any] struct {
	maxAge time.Duration
	clock  clock.Clock
	last   atomic.Pointer[stamped[T]]
}

type stamped[T any] struct {
	v  T
	at time.Time
}

// NewLastGood returns a cache whose value serves for at most maxAge; a nil
// clk means the real clock.
func NewLastGood[T any](maxAge time.Duration, clk clock.Clock) (*LastGood[T], error) {
	if maxAge <= 0 {
		return nil, fmt.Errorf("fallback: LastGood maxAge must be positive, got %s", maxAge)
	}
	if clk == nil {
		clk = clock.New()
	}
	return &LastGood[T]{maxAge: maxAge, clock: clk}, nil
}

// Observe records v as the latest good value.
func (l *LastGood[T]) Observe(v T) {
	l.last.Store(&stamped[T]{v: v, at: l.clock.Now()})
}

// Get returns the latest good value, when it was seen, and whether there is
// one at all, whatever its age.
func (l *LastGood[T]) Get() (T, time.Time, bool) {
	s := l.last.Load()
	if s == nil {
		var zero T
		return zero, time.Time{}, false
	}
	return s.v, s.at, true
}

// Alternative offers the latest good value while it is at most maxAge old,
// and records its age in the caller's [Report].
func (l *LastGood[T]) Alternative(ctx context.Context, _ error) (T, error) {
	var zero T
	s := l.last.Load()
	if s == nil {
		return zero, ErrNoValue
	}
	age := l.clock.Since(s.at)
	if age > l.maxAge {
		return zero, fmt.Errorf("%w: %s old, limit %s", ErrStale, age, l.maxAge)
	}
	reportFrom(ctx).setAge(age)
	return s.v, nil
}
