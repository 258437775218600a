package breaker

import (
	"fmt"
	"reflect"
	"time"

	"github.com/riprap-go/riprap/resilience/backoff"
)

// How Registry.GetOrCreate tells whether a Config describes a registered
// breaker: by its settings, defaults applied, field by field.

// matching returns b when want describes it, else an error matching
// ErrConfigMismatch naming the first field that differs. A match costs no
// allocation, for programs that look a breaker up on every request.
func matching(b *Breaker, want settings) (*Breaker, error) {
	have, asked := *b.set, want
	have.strategy, asked.strategy = nil, nil // compared apart: == may panic on them
	if have == asked && sameStrategy(b.set.strategy, want.strategy) {
		return b, nil
	}
	for _, f := range b.set.fields(&want) {
		if !f.same {
			return nil, fmt.Errorf("%w: breaker %q has %s %v, asked for %v",
				ErrConfigMismatch, b.name, f.name, f.have, f.want)
		}
	}
	return b, nil
}

// settingField is one setting of two configurations side by side, named
// as the Config field that sets it.
type settingField struct {
	name       string
	have, want any
	same       bool
}

// fields compares s, a registered breaker's settings, with o field by
// field, in the order of Config.
func (s *settings) fields(o *settings) []settingField {
	f := func(name string, have, want any) settingField {
		return settingField{name, have, want, have == want}
	}
	dur := func(ns int64) time.Duration { return time.Duration(ns) }
	return []settingField{
		f("ConsecutiveFailures", s.consecutive, o.consecutive),
		f("FailureRate", s.failureRate, o.failureRate),
		f("SlowCallRate", s.slowRate, o.slowRate),
		f("SlowCallDuration", dur(s.slowDur), dur(o.slowDur)),
		f("MinimumCalls", s.minCalls, o.minCalls),
		f("WindowSize", s.countSize, o.countSize),
		f("WindowDuration", dur(s.bucketWidth*int64(s.buckets)), dur(o.bucketWidth*int64(o.buckets))),
		f("WindowBuckets", s.buckets, o.buckets),
		f("OpenWait", s.openWait, o.openWait),
		{"OpenBackoff", fmt.Sprintf("%T", s.strategy), fmt.Sprintf("%T", o.strategy), sameStrategy(s.strategy, o.strategy)},
		f("MaxOpenWait", s.maxOpenWait, o.maxOpenWait),
		f("IgnoreRetryAfter", !s.useRetryAfter, !o.useRetryAfter),
		f("MaxProbes", s.maxProbes, o.maxProbes),
		f("SuccessesToClose", s.successesToClose, o.successesToClose),
		f("MaxHalfOpen", dur(s.maxHalfOpen), dur(o.maxHalfOpen)),
	}
}

// sameStrategy compares two strategies where Go can: values of one
// comparable type (a shared pointer, an equal constant) are compared, values
// of an uncomparable type are taken as equal, different types are not. It
// allocates nothing, unlike reflect.Value.Equal.
func sameStrategy(a, b backoff.Strategy) (same bool) {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta := reflect.TypeOf(a)
	switch {
	case ta != reflect.TypeOf(b):
		return false
	case !ta.Comparable():
		return true
	}
	defer func() {
		// A struct type is comparable even when an interface field holds a
		// value that is not; == then panics, and Go cannot tell them apart.
		if recover() != nil {
			same = true
		}
	}()
	return a == b
}
