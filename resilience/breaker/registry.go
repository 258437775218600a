package breaker

import (
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
// the same instance. cfg is used, and validated, only when the breaker is
// created.
func (r *Registry) GetOrCreate(name string, cfg Config) (*Breaker, error) {
	if b, ok := r.Get(name); ok {
		return b, nil
	}
	cfg.Name = name
	nb, err := New(cfg)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.breakers[name]; ok {
		return b, nil // another goroutine won the race; nb is dropped unused
	}
	if r.breakers == nil {
		r.breakers = make(map[string]*Breaker)
	}
	r.breakers[name] = nb
	return nb, nil
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
