package dst

import (
	"sync"
	"testing/synctest"
)

// sequencer gives a world one order of events, the same on every run.
//
// A synctest bubble makes time virtual, but goroutines woken at the same
// instant still run in whatever order the Go scheduler picks (the race
// detector even shuffles it), and they meet in the store, the simulated
// services and their random draws. So every point where the run touches
// shared state — a store call, a request reaching a service or coming back
// from it, a claim's deadline, a step of the driver — first takes a
// ticket named after what it is about to do. A single goroutine waits
// until every other goroutine of the bubble is blocked (synctest.Wait),
// then lets the pending ticket with the smallest name go, and waits again:
// one step at a time, in an order that depends on the names alone. Between
// two tickets a goroutine runs alone, so whatever it touches (a breaker, a
// limiter, a retry budget) it touches in that same order.
//
// Two pending tickets with the same name are let go in the order they
// were taken, which the scheduler decides: the sequencer counts such ties,
// and the determinism test requires none.
type sequencer struct {
	mu      sync.Mutex // protects the fields below
	pending []*ticket
	taken   uint64 // tickets taken so far: the order of ties
	grants  int
	ties    int
	stopped bool

	wake chan struct{} // a ticket was taken: buffered, one token
	quit chan struct{} // closed by stop
	done chan struct{} // closed when run returns
}

type ticket struct {
	name  string
	n     uint64
	grant chan struct{}
}

func newSequencer() *sequencer {
	return &sequencer{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

// enter takes a ticket and waits for its turn. After stop it returns at
// once: the world is over, nothing is ordered any more.
func (s *sequencer) enter(name string) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	t := &ticket{name: name, n: s.taken, grant: make(chan struct{})}
	s.taken++
	s.pending = append(s.pending, t)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-t.grant
}

// run is the sequencer's goroutine, in the bubble. Time moves on only while
// it waits for a ticket with none pending: synctest.Wait returns before the
// bubble's clock advances.
func (s *sequencer) run() {
	defer close(s.done)
	for {
		synctest.Wait()
		if t := s.next(); t != nil {
			close(t.grant)
			continue
		}
		select {
		case <-s.wake:
		case <-s.quit:
			return
		}
	}
}

// next removes and returns the pending ticket with the smallest name, nil
// when none is pending.
func (s *sequencer) next() *ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	best, tie := 0, false
	for i, t := range s.pending[1:] {
		b := s.pending[best]
		switch {
		case t.name < b.name:
			best, tie = i+1, false
		case t.name == b.name:
			tie = true
			if t.n < b.n {
				best = i + 1
			}
		}
	}
	t := s.pending[best]
	s.pending = append(s.pending[:best], s.pending[best+1:]...)
	s.grants++
	if tie {
		s.ties++
	}
	return t
}

// stop lets every pending ticket go, makes later ones pass at once, and
// waits for run to return.
func (s *sequencer) stop() {
	s.mu.Lock()
	s.stopped = true
	for _, t := range s.pending {
		close(t.grant)
	}
	s.pending = nil
	s.mu.Unlock()
	close(s.quit)
	<-s.done
}

// counts returns the grants made and how many of them broke a tie.
func (s *sequencer) counts() (grants, ties int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants, s.ties
}
