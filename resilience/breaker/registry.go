package breaker

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
)

// Registry holds breakers by name, so that every part of a program that
// talks to "bank" shares one breaker, and a status page can list them all.
//
// The zero value is an empty registry ready to use. A Registry is safe for
// concurrent use; it must not be copied after first use.
type Registry struct {
	mu       sync.RWMutex // protects breakers
	breakers map[string]*Breaker
}

// GetOrCreate returns the breaker named name, creating it from cfg (with
// cfg.Name set to name) if there is none. Concurrent calls for one name get
// the same instance.
//
// cfg is validated on every call, and an existing breaker is returned only
// if cfg would make the same breaker; otherwise GetOrCreate returns an
// error matching [ErrConfigMismatch] that names the first field that
// differs, never silently a breaker other than the one asked for. "The
// same" is judged after defaults are applied, so Config{} and
// Config{ConsecutiveFailures: 5} match. Every field holding a value is
// compared; OpenBackoff is compared as an interface value where Go can
// compare it (the same strategy shared, or an equal value of the same
// type) and otherwise only by its type. Classifier, Clock and Listeners
// hold functions and clocks, which cannot be compared: those of the first
// config win, and later calls may leave them out. To share a breaker built
// elsewhere, use [Registry.Register].
func (r *Registry) GetOrCreate(name string, cfg Config) (*Breaker, error) {
	cfg.Name = name
	want, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	if b, ok := r.Get(name); ok {
		return matching(b, want)
	}
	nb, err := New(cfg)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.breakers[name]; ok {
		// Another goroutine won the race; nb is dropped unused.
		return matching(b, want)
	}
	r.add(nb)
	return nb, nil
}

// Register adds b, made with [New], under its name, so that code asking
// the registry for that name shares it and a status page lists it.
// Registering a breaker again is a no-op. It fails with an error matching
// [ErrNameTaken] when another breaker of that name is registered, and with
// [ErrNilBreaker] for a nil b.
func (r *Registry) Register(b *Breaker) error {
	if b == nil {
		return ErrNilBreaker
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch old, ok := r.breakers[b.name]; {
	case !ok:
		r.add(b)
	case old != b:
		return fmt.Errorf("%w: %q", ErrNameTaken, b.name)
	}
	return nil
}

// add stores b. r.mu must be held.
func (r *Registry) add(b *Breaker) {
	if r.breakers == nil {
		r.breakers = make(map[string]*Breaker)
	}
	r.breakers[b.name] = b
}

// Get returns the breaker named name, if any.
func (r *Registry) Get(name string) (*Breaker, bool) {
	r.mu.RLock()
	b, ok := r.breakers[name]
	r.mu.RUnlock()
	return b, ok
}

// Remove forgets the breaker named name and reports whether there was one.
// Holders of the breaker may go on using it.
func (r *Registry) Remove(name string) bool {
	r.mu.Lock()
	_, ok := r.breakers[name]
	delete(r.breakers, name)
	r.mu.Unlock()
	return ok
}

// Len returns the number of breakers held.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.breakers)
}

// All yields the breakers in name order, as they were when iteration began;
// the loop body runs without the registry's lock, so it may use the
// registry.
func (r *Registry) All() iter.Seq2[string, *Breaker] {
	return func(yield func(string, *Breaker) bool) {
		for _, b := range r.sorted() {
			if !yield(b.name, b) {
				return
			}
		}
	}
}

// Snapshots returns a snapshot of every breaker, in name order.
func (r *Registry) Snapshots() []Snapshot {
	bs := r.sorted()
	out := make([]Snapshot, len(bs))
	for i, b := range bs {
		out[i] = b.Snapshot()
	}
	return out
}

func (r *Registry) sorted() []*Breaker {
	r.mu.RLock()
	bs := make([]*Breaker, 0, len(r.breakers))
	for _, b := range r.breakers {
		bs = append(bs, b)
	}
	r.mu.RUnlock()
	slices.SortFunc(bs, func(a, b *Breaker) int { return strings.Compare(a.name, b.name) })
	return bs
}
