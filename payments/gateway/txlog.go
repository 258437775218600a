package gateway

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/outbox"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// logPath delivers settled payments to the transaction log without ever
// blocking or failing a payment: Pay only puts the entry in the outbox (the
// transactional-outbox pattern; with a file outbox that is one fsync'd
// append), and the replayer — one drainer at a time — appends entries to the
// log in order, when woken and on a timer, stopping at the first failure.
type logPath struct {
	breaker *breaker.Breaker
	append  resilience.Func[struct{}]
	outbox  outbox.Outbox
	kick    chan struct{} // buffered: a request to replay soon
	owed    atomic.Int64  // entries promised by settled payments, not yet queued

	draining sync.Mutex // one Drain at a time (outbox.Drain requires it)

	mu       sync.Mutex // protects overflow and refused
	overflow []payments.Entry
	refused  []RefusedEntry
}

// RefusedEntry is a log entry the transaction log refused for good (a
// different entry already stands under its payment ID, or it is invalid).
// It is set aside rather than retried, so it cannot hold up the entries
// queued behind it; [Status] lists them for an operator to look at.
type RefusedEntry struct {
	Entry payments.Entry `json:"entry"`
	Err   string         `json:"error"`
}

type entryKey struct{}

func newLogPath(cfg *Config) (*logPath, error) {
	lp := &logPath{outbox: cfg.Outbox, kick: make(chan struct{}, 1)}
	bc := cfg.LogPolicy.Breaker
	// A log breaker that closes, or lets a probe through, is the moment to
	// replay: the replay's first append is that probe.
	bc.Listeners = append(bc.Listeners, func(e resilience.Event) {
		if e.Kind == resilience.EventStateChange && (e.To == breaker.Closed.String() || e.To == breaker.HalfOpen.String()) {
			lp.wake()
		}
	})
	bc, err := cfg.breakerConfig("log", bc)
	if err != nil {
		return nil, err
	}
	if lp.breaker, err = cfg.Registry.GetOrCreate("log", bc); err != nil {
		return nil, err
	}
	deadline, err := timeout.NewWithConfig[struct{}](timeout.Config{Timeout: cfg.LogPolicy.Timeout, Name: "log",
		Clock: timeoutClock(cfg), Listeners: cfg.Listeners})
	if err != nil {
		return nil, err
	}
	p, err := resilience.NewPipeline(breaker.Policy[struct{}](lp.breaker), deadline)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	lp.append = p.Wrap(func(ctx context.Context) (struct{}, error) {
		return struct{}{}, log.Append(ctx, ctx.Value(entryKey{}).(payments.Entry))
	})
	return lp, nil
}

func (lp *logPath) wake() {
	select {
	case lp.kick <- struct{}{}:
	default:
	}
}

// send appends e through the log's pipeline.
func (lp *logPath) send(ctx context.Context, e payments.Entry) error {
	_, err := lp.append(context.WithValue(ctx, entryKey{}, e))
	return err
}

// owe counts an entry that a payment about to be settled will queue.
func (lp *logPath) owe() { lp.owed.Add(1) }

// record queues e (owed before) and wakes the replayer.
func (lp *logPath) record(e payments.Entry) {
	lp.enqueue(e)
	lp.owed.Add(-1)
	lp.wake()
}

// enqueue puts e in the outbox. When the outbox cannot take it (full, or an
// I/O error of a file outbox), e waits in memory and moves in as the outbox
// drains: an entry is never dropped.
func (lp *logPath) enqueue(e payments.Entry) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if len(lp.overflow) == 0 && lp.outbox.Put(e) == nil {
		return
	}
	lp.overflow = append(lp.overflow, e)
}

// depth is how many entries the log is still owed.
func (lp *logPath) depth() int {
	lp.mu.Lock()
	n := len(lp.overflow)
	lp.mu.Unlock()
	return lp.outbox.Len() + n + int(lp.owed.Load())
}

// deliver is the outbox's send: an append the log refuses for good is set
// aside (and acknowledged), so it does not stop the queue behind it.
func (lp *logPath) deliver(ctx context.Context, e payments.Entry) error {
	err := lp.send(ctx, e)
	if err != nil && payments.IsPermanent(err) && !resilience.IsRejected(err) {
		lp.mu.Lock()
		lp.refused = append(lp.refused, RefusedEntry{Entry: e, Err: err.Error()})
		lp.mu.Unlock()
		return nil
	}
	return err
}

func (lp *logPath) refusedEntries() []RefusedEntry {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return append([]RefusedEntry(nil), lp.refused...)
}

// drain replays the outbox in order, then moves overflowed entries in. It
// stops at the first failed append, leaving the rest for the next round.
func (lp *logPath) drain(ctx context.Context) error {
	if !lp.draining.TryLock() {
		return nil // another drain is running
	}
	defer lp.draining.Unlock()
	for {
		if _, err := outbox.Drain(ctx, lp.outbox, lp.deliver); err != nil {
			return err
		}
		if !lp.refill() {
			return nil
		}
	}
}

// refill moves overflowed entries into the outbox while it has room, and
// reports whether it moved any.
func (lp *logPath) refill() bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	moved := 0
	for _, e := range lp.overflow {
		if err := lp.outbox.Put(e); err != nil {
			break
		}
		moved++
	}
	lp.overflow = lp.overflow[moved:]
	return moved > 0
}
