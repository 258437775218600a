package outbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/riprap-go/riprap/payments"
)

// Errors of the outboxes, matched with errors.Is.
var (
	// ErrFull: the outbox holds its maximum number of pending entries; the
	// entry was not stored.
	ErrFull = errors.New("outbox: full")
	// ErrClosed: the outbox was closed.
	ErrClosed = errors.New("outbox: closed")
	// ErrTooLarge: an entry's encoding exceeds the record size limit.
	ErrTooLarge = errors.New("outbox: entry too large")
)

// DefaultMaxEntries bounds the pending entries when Config.MaxEntries is 0.
const DefaultMaxEntries = 10000

// Item is a pending entry with the sequence number that acknowledges it.
// Sequence numbers grow with every Put; they order the outbox, and they
// stay the same across a reopen of a [File]. It is plain data.
type Item struct {
	Seq   uint64
	Entry payments.Entry
}

// Outbox is a bounded FIFO of log entries awaiting delivery.
// Implementations are safe for concurrent use.
type Outbox interface {
	// Put appends e. An entry whose PaymentID is already pending is not
	// stored again (nil is returned), so a payment is queued once. When
	// the outbox is full, Put returns an error matching ErrFull; an entry
	// that fails payments.Entry.Validate is refused with that error.
	Put(e payments.Entry) error
	// Pending returns the entries not yet acknowledged, oldest first.
	Pending() []Item
	// Ack removes the item with sequence number seq, once delivered.
	// Acknowledging an unknown or already removed seq does nothing.
	Ack(seq uint64) error
	// Len returns the number of pending entries.
	Len() int
	// Close releases resources; later calls return ErrClosed.
	Close() error
}

// Config configures an outbox. The zero value is ready to use.
type Config struct {
	// MaxEntries bounds the pending entries; 0 means DefaultMaxEntries.
	MaxEntries int
}

func (c *Config) normalize() error {
	if c.MaxEntries < 0 {
		return fmt.Errorf("outbox: MaxEntries must be >= 0, got %d", c.MaxEntries)
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	return nil
}

// Drain delivers o's pending entries with send, oldest first, and
// acknowledges each one send accepted. It stops at the first error (so a
// later entry never overtakes an earlier one) and returns how many entries
// it delivered with that error, or ctx's error when ctx ended first.
//
// Run one Drain per outbox at a time: two concurrent drains may both send
// the same entry. send must be idempotent by PaymentID anyway — a crash
// between a delivery and its Ack replays that entry after restart, which is
// what payments.Log guarantees.
func Drain(ctx context.Context, o Outbox, send func(context.Context, payments.Entry) error) (int, error) {
	n := 0
	for _, it := range o.Pending() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if err := send(ctx, it.Entry); err != nil {
			return n, err
		}
		if err := o.Ack(it.Seq); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
