package sim

import (
	"context"
	"fmt"
	"sync"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
)

// FXConfig configures an [FX]. The zero value is ready to use.
type FXConfig struct {
	// Clock stamps quotes' AsOf; nil means the real clock.
	Clock clock.Clock
}

// FX is an in-memory payments.FX serving the rates set with [FX.SetRate];
// a currency always converts to itself at 1. Build it with [NewFX]; it is
// safe for concurrent use.
type FX struct {
	clock clock.Clock

	mu     sync.Mutex // protects rates and quotes
	rates  map[[2]payments.Currency]payments.Rate
	quotes int
}

// NewFX returns an exchange service with no rates.
func NewFX(cfg FXConfig) *FX {
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	return &FX{clock: cfg.Clock, rates: make(map[[2]payments.Currency]payments.Rate)}
}

// SetRate sets the rate from one currency to another (not the inverse).
func (f *FX) SetRate(from, to payments.Currency, r payments.Rate) error {
	if !from.Known() || !to.Known() || !r.Valid() {
		return fmt.Errorf("sim: SetRate(%s, %s, %s): want known currencies and a valid rate", from, to, r)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rates[[2]payments.Currency{from, to}] = r
	return nil
}

// Quotes returns how many quotes were served.
func (f *FX) Quotes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.quotes
}

// Quote implements payments.FX; AsOf is the clock's current time.
func (f *FX) Quote(_ context.Context, from, to payments.Currency) (payments.Quote, error) {
	if !from.Known() || !to.Known() {
		return payments.Quote{}, payments.ErrUnknownCurrency
	}
	now := f.clock.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rates[[2]payments.Currency{from, to}]
	if from == to {
		r, ok = payments.MustParseRate("1"), true
	}
	if !ok {
		return payments.Quote{}, fmt.Errorf("%w: %s to %s", payments.ErrNoRate, from, to)
	}
	f.quotes++
	return payments.Quote{From: from, To: to, Rate: r, AsOf: now}, nil
}

// LogStats counts what a [Log] did: a copy taken under the log's lock. It
// is plain data.
type LogStats struct {
	Appends    int // calls of Append that reached the log
	Stored     int // distinct entries stored
	Duplicates int // repeats of a stored entry, accepted and not stored again
	Conflicts  int // different entries under a stored payment ID, refused
}

// Log is an in-memory payments.Log, idempotent by payment ID. Build it with
// [NewLog]; it is safe for concurrent use.
type Log struct {
	mu      sync.Mutex // protects everything below
	entries map[string]payments.Entry
	order   []string
	stats   LogStats
}

// NewLog returns an empty log.
func NewLog() *Log { return &Log{entries: make(map[string]payments.Entry)} }

// Append implements payments.Log.
func (l *Log) Append(ctx context.Context, e payments.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Appends++
	if old, ok := l.entries[e.PaymentID]; ok {
		if !old.Equal(e) {
			l.stats.Conflicts++
			return fmt.Errorf("%w: payment %q is logged with different content", payments.ErrIdempotencyConflict, e.PaymentID)
		}
		l.stats.Duplicates++
		return nil
	}
	l.entries[e.PaymentID] = e
	l.order = append(l.order, e.PaymentID)
	l.stats.Stored++
	return nil
}

// Entries returns the stored entries in the order first appended.
func (l *Log) Entries() []payments.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]payments.Entry, 0, len(l.order))
	for _, id := range l.order {
		out = append(out, l.entries[id])
	}
	return out
}

// Stats returns a copy of the counters.
func (l *Log) Stats() LogStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

var (
	_ payments.FX  = (*FX)(nil)
	_ payments.Log = (*Log)(nil)
)
