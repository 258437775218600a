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

var _ payments.FX = (*FX)(nil)
