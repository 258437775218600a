package gateway

import (
	"context"
	"errors"
	"sync"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/outbox"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// logPath appends settled payments to the transaction log without ever
// blocking or failing a payment: an entry that cannot be appended now goes
// to the outbox, which the replayer delivers in order once the log is back.
type logPath struct {
	breaker *breaker.Breaker
	append  resilience.Func[struct{}]
	outbox  outbox.Outbox
	kick    chan struct{} // buffered: a request to replay soon

	draining sync.Mutex // one Drain at a time (outbox.Drain requires it)

	mu       sync.Mutex // protects overflow
	overflow []payments.Entry
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

// record appends e now if nothing is queued before it, else queues it.
// The payment's own cancellation does not stop the append: the money has
// moved, so the entry is owed to the log either way.
func (lp *logPath) record(ctx context.Context, e payments.Entry) {
	if lp.depth() == 0 && lp.send(context.WithoutCancel(ctx), e) == nil {
		return
	}
	lp.enqueue(e)
	lp.wake()
}

// enqueue puts e in the outbox, or in memory while the outbox is full, so
// that nothing is lost; the overflow moves to the outbox as it drains.
func (lp *logPath) enqueue(e payments.Entry) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if len(lp.overflow) == 0 {
		err := lp.outbox.Put(e)
		if err == nil || !errors.Is(err, outbox.ErrFull) {
			return // a Put error other than full means an invalid entry: nothing to retry
		}
	}
	lp.overflow = append(lp.overflow, e)
}

// depth is how many entries wait for the log.
func (lp *logPath) depth() int {
	lp.mu.Lock()
	n := len(lp.overflow)
	lp.mu.Unlock()
	return lp.outbox.Len() + n
}

// drain replays the outbox in order, then moves overflowed entries in. It
// stops at the first failed append, leaving the rest for the next round.
func (lp *logPath) drain(ctx context.Context) error {
	if !lp.draining.TryLock() {
		return nil // another drain is running
	}
	defer lp.draining.Unlock()
	for {
		if _, err := outbox.Drain(ctx, lp.outbox, lp.send); err != nil {
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
