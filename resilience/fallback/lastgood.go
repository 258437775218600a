package fallback

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/riprap-go/riprap/resilience"
)

// ErrNoValue is returned by [LastGood.Alternative] when no good value has
// been seen yet; ErrStale when the last one is older than the maximum age.
var (
	ErrNoValue = errors.New("fallback: no good value seen yet")
	ErrStale   = errors.New("fallback: last good value too old")
)

// LastGood remembers the most recent good result and offers it as an
// alternative while it is younger than a maximum age: the FX quote of a
// minute ago is better than no quote. [LastGood.Policy] is the fallback
// that feeds it and answers from it; in a [Chain], pass
// [LastGood.Alternative] and set [Config.Observe] to [LastGood.Observe].
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
// clk means the real clock. maxAge has no default (how stale is still
// useful depends on the value), so a maxAge that is not positive is refused
// with a [*resilience.ConfigError].
func NewLastGood[T any](maxAge time.Duration, clk clock.Clock) (*LastGood[T], error) {
	if maxAge <= 0 {
		return nil, &resilience.ConfigError{Component: "fallback", Field: "maxAge", Rule: "must be positive", Value: maxAge}
	}
	if clk == nil {
		clk = clock.New()
	}
	return &LastGood[T]{maxAge: maxAge, clock: clk}, nil
}

// Policy returns a fallback policy that feeds l with every good result
// and answers from it when a call fails. Give [New] a [Config] to name it or
// listen to it.
func (l *LastGood[T]) Policy() *Policy[T] {
	if l == nil {
		return New[T](nil, Config[T]{})
	}
	return New(l.Alternative, Config[T]{Observe: l.Observe})
}

// Observe records v as the latest good value.
func (l *LastGood[T]) Observe(v T) {
	if l == nil {
		return
	}
	l.last.Store(&stamped[T]{v: v, at: l.clock.Now()})
}

// Get returns the latest good value, when it was seen, and whether there is
// one at all, whatever its age.
func (l *LastGood[T]) Get() (T, time.Time, bool) {
	if l == nil {
		var zero T
		return zero, time.Time{}, false
	}
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
	if l == nil {
		return zero, ErrNoValue
	}
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
