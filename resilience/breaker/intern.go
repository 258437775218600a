package breaker

import (
	"reflect"
	"sync"
)

// Breakers made from the same configuration share one copy of their
// settings, about 140 bytes that would otherwise be half of an idle
// breaker: a registry of 100,000 breakers for as many hosts, all with one
// Config, holds one copy. Settings are immutable once made, so sharing
// them is invisible.
//
// The table is bounded: past maxInterned distinct configurations a breaker
// keeps its own copy, so a program that makes breakers from ever new
// configurations cannot grow it without end. Settings whose OpenBackoff Go
// cannot compare (or hash) are never shared.
var interned struct {
	mu sync.Mutex // protects m
	m  map[settings]*settings
}

const maxInterned = 256

// intern returns the shared copy of s, or a copy of its own.
func intern(s settings) *settings {
	if !hashable(s.strategy) {
		return copyOf(s)
	}
	interned.mu.Lock()
	defer interned.mu.Unlock()
	if p, ok := interned.m[s]; ok {
		return p
	}
	p := copyOf(s)
	if len(interned.m) < maxInterned {
		if interned.m == nil {
			interned.m = make(map[settings]*settings)
		}
		interned.m[s] = p
	}
	return p
}

// hashable reports whether a strategy can be part of a map key and found
// again: nil, or a value of a comparable type whose interface fields, if
// any, hold comparable values too (Go checks those only when comparing, so
// a trial comparison decides), and that equals itself (no NaN inside).
func hashable(st any) (ok bool) {
	if st == nil {
		return true
	}
	if !reflect.TypeOf(st).Comparable() {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	c := st
	return c == st
}

// copyOf puts s on the heap; intern's s stays on the stack when it is
// found in the table.
func copyOf(s settings) *settings {
	p := new(settings)
	*p = s
	return p
}
