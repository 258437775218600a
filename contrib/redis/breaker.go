package riprapredis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Breaker is a local circuit breaker that shares its openings with every
// instance of a fleet through Redis, without a lock on the call path.
//
// Calls go through the local [breaker.Breaker] only: a call makes no Redis
// round trip, whatever the state. When the local breaker opens by its own
// rules, a background goroutine publishes the opening with one script (a
// compare-and-set on the fleet's epoch, then PUBLISH); every peer holds its
// own breaker open ([breaker.HeldOpen]) until the published deadline, then
// releases it to half-open, so that its own probes confirm the recovery. A
// probe that fails anywhere opens that instance again, which publishes
// again. With a [BreakerConfig].Quorum, the fleet opens only when that many
// instances have opened within a window, so one bad node cannot shut the
// fleet out of a dependency that works for the others.
//
// Messages missed while the subscription was down are repaired by
// re-reading the fleet key each time it is re-established, and every
// RepairInterval. While Redis is unreachable, calls go on under the local
// breaker alone (or, with FailClosed, are refused); an opening that could
// not be published is retried, and only the latest one is kept, so nothing
// queues up. The fleet state is rebuilt when Redis returns: the key is read
// again and a local opening still in force is published.
//
// A hold for the fleet is the breaker's one hold ([breaker.Breaker.HoldOpen]):
// a health check bound to the same breaker shares it, so whichever
// releases first ends it (the health check holds again after its next
// failed probe). A person's manual state always wins; a hold that somebody
// else ended is not placed again until the fleet publishes a new opening.
//
// Build one with [NewBreaker], then Start it; Close stops its goroutines,
// waits for them, and releases a hold it placed. The zero value is not
// usable. A Breaker is safe for concurrent use.
type Breaker struct {
	local  *breaker.Breaker
	client redis.UniversalClient
	set    breakerSettings
	disp   *resilience.Dispatcher

	// Wake-ups, each buffered by one and sent without blocking: a burst of
	// signals costs one pass, and a sender never waits.
	publishWake chan struct{} // the local breaker opened
	resync      chan struct{} // the subscription was (re)established
	holdWake    chan struct{} // the fleet deadline or the connection changed
	ready       chan struct{} // closed after the first subscription and read
	done        chan struct{} // closed by Close

	mu         sync.Mutex // protects the fields below
	epoch      int64      // the fleet epoch last seen, for the compare-and-set
	applied    opening    // the last opening adopted, so a re-read does not extend it
	holdUntil  time.Time  // hold the local breaker for the fleet until then
	holdReason string
	holdGen    uint64 // incremented by news that may call for a hold
	conn       string // "connecting", "connected" or "disconnected"
	lastReason string // the reason of the latest local opening
	lastErr    string
	started    bool
	closed     bool
	readyDone  bool
	cancel     context.CancelFunc
	ps         *redis.PubSub

	wg sync.WaitGroup

	// Owned by the sync goroutine.
	reportedGen uint64 // the local generation last published or reported
	reportedAny bool

	// Owned by the hold goroutine, and read by Close after it ended.
	appliedGen uint64
	holding    atomic.Bool // this instance holds its breaker open (read by Snapshot)

	published, reported, adopted, received, repaired, reconnects, errors, holds, releases atomic.Uint64
}

// Connection states, as reported in events and snapshots.
const (
	connConnecting   = "connecting"
	connConnected    = "connected"
	connDisconnected = "disconnected"
)

// NewBreaker builds the local breaker from cfg.Breaker, with a listener of
// its own added, and the fleet logic around it. Nothing touches Redis
// until [Breaker.Start]. A bad configuration, of either part, is refused
// with a *[resilience.ConfigError].
func NewBreaker(cfg BreakerConfig) (*Breaker, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	s := &Breaker{
		client: cfg.Client, set: set, conn: connConnecting,
		publishWake: make(chan struct{}, 1), resync: make(chan struct{}, 1),
		holdWake: make(chan struct{}, 1), ready: make(chan struct{}), done: make(chan struct{}),
	}
	if len(cfg.Listeners) > 0 {
		s.disp = resilience.NewDispatcher(cfg.Listeners)
	}
	local := cfg.Breaker
	local.Listeners = append(append(resilience.Listeners(nil), cfg.Breaker.Listeners...),
		resilience.OnStateChange(s.onLocal))
	if s.local, err = breaker.New(local); err != nil {
		return nil, err
	}
	return s, nil
}

// Local returns the local breaker, for a pipeline, a registry, a status
// page or a person's manual control. Its calls make no Redis round trip.
func (s *Breaker) Local() *breaker.Breaker { return s.local }

// Name returns the breaker's name, which is also the fleet's.
func (s *Breaker) Name() string { return s.set.name }

// Instance returns this instance's identity in the fleet.
func (s *Breaker) Instance() string { return s.set.instance }

// Guard runs the rest of a pipeline through the local breaker, making
// *Breaker a [resilience.Guard]; see [breaker.Breaker.Guard]. It never
// touches Redis.
func (s *Breaker) Guard(ctx context.Context, next resilience.Next) error {
	if s == nil {
		return breaker.ErrNilBreaker
	}
	return s.local.Guard(ctx, next)
}

// Start subscribes to the fleet's channel and starts the background work:
// a subscriber, a goroutine that publishes local openings and re-reads the
// fleet key, and one that places and releases holds. It waits until the
// subscription is confirmed and the fleet's current state read, or until
// ctx ends, whichever comes first; ctx bounds only that wait. When ctx ends
// first (Redis is unreachable), Start returns ctx's error but the work goes
// on, retrying in the background, and calls are protected by the local
// breaker meanwhile. Either way [Breaker.Close] must be called; a Close
// during the wait makes Start return [ErrClosed].
func (s *Breaker) Start(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.started:
		s.mu.Unlock()
		return ErrStarted
	}
	s.started = true
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.ps = s.client.Subscribe(bg) // no channel yet: no network until the subscriber runs
	s.mu.Unlock()
	s.wg.Add(3)
	go s.subscribeLoop(bg)
	go s.syncLoop(bg)
	go s.holdLoop(bg)
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

// Close stops the background work and waits for its goroutines to end. A
// hold this instance placed on the local breaker is released (to
// half-open), since nobody would release it later. The local breaker
// itself keeps working. Close is idempotent and returns nil.
func (s *Breaker) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	cancel, ps := s.cancel, s.ps
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if ps != nil {
		_ = ps.Close() // unblocks the subscriber's read
	}
	s.wg.Wait()
	if s.holding.Load() && s.local.State() == breaker.HeldOpen {
		s.local.Release("riprapredis: closed", false)
	}
	return nil
}

// onLocal hears the local breaker's transitions. It runs on whichever
// goroutine made the transition, possibly a caller's, so it only notes the
// reason and wakes the sync goroutine: no Redis I/O, no blocking.
func (s *Breaker) onLocal(e resilience.Event) {
	if e.To != breaker.Open.String() {
		return // holds placed for the fleet are held_open: never published back
	}
	s.mu.Lock()
	s.lastReason = sanitize(e.Reason)
	s.mu.Unlock()
	wake(s.publishWake)
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
