package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/fallback"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// fxPath quotes through one pipeline per currency pair — fallback to the
// pair's last good quote → breaker "fx" → trip wire → timeout (a quote in
// flight when the breaker opens ends at once, and the last good quote
// stands in for it: see [tripWire]) — so that each pair has
// its own last good quote while all share the breaker. The fallback is
// outermost so that it also answers when the breaker refuses. Pairs are
// currency pairs, so there are finitely many pipelines.
type fxPath struct {
	s        *settings
	breaker  *breaker.Breaker
	wire     *tripWire // ends the quotes in flight when the breaker opens
	deadline *timeout.Timeout

	mu    sync.Mutex // protects pairs
	pairs map[[2]payments.Currency]resilience.Pipeline[payments.Quote]
}

type conversion struct {
	settled  payments.Money
	quote    *payments.Quote
	fallback bool
	age      time.Duration
}

func newFXPath(s *settings) (*fxPath, error) {
	wire := newTripWire("fx")
	bc := s.FXPolicy.Breaker
	bc.Listeners = append(append(resilience.Listeners(nil), bc.Listeners...), wire.listener())
	b, err := s.breaker("fx", bc)
	if err != nil {
		return nil, err
	}
	deadline, err := timeout.New(timeout.Config{Timeout: s.FXPolicy.Timeout, Name: "fx",
		Clock: s.policyClock(), Listeners: s.Listeners})
	if err != nil {
		return nil, err
	}
	return &fxPath{s: s, breaker: b, wire: wire, deadline: deadline,
		pairs: make(map[[2]payments.Currency]resilience.Pipeline[payments.Quote])}, nil
}

// convert settles req's amount in its target currency: unchanged when there
// is none, else converted at a quote (half-even rounding).
func (f *fxPath) convert(ctx context.Context, req payments.PaymentRequest) (conversion, error) {
	if !needsConversion(req) {
		return conversion{settled: req.Amount}, nil
	}
	from, to := req.Amount.Currency(), req.TargetCurrency
	quotes, err := f.pair(from, to)
	if err != nil {
		return conversion{}, err
	}
	ctx, rep := fallback.WithReport(ctx) // tells a stand-in quote from a fresh one
	q, err := quotes.Execute(ctx, func(ctx context.Context) (payments.Quote, error) { return f.s.FX.Quote(ctx, from, to) })
	if err != nil {
		return conversion{}, err
	}
	m, err := req.Amount.Convert(q.Rate, to, payments.HalfEven)
	if err != nil {
		return conversion{}, err
	}
	return conversion{settled: m, quote: &q, fallback: rep.Used(), age: rep.Age()}, nil
}

// pair returns the pipeline of a currency pair, building it on first use.
func (f *fxPath) pair(from, to payments.Currency) (resilience.Pipeline[payments.Quote], error) {
	key := [2]payments.Currency{from, to}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.pairs[key]; ok {
		return p, nil
	}
	last, err := fallback.NewLastGood[payments.Quote](f.s.FXPolicy.MaxStaleness, f.s.policyClock())
	if err != nil {
		return resilience.Pipeline[payments.Quote]{}, err
	}
	fb := fallback.New(last.Alternative, fallback.Config[payments.Quote]{Name: "fx " + from.Code() + "/" + to.Code(),
		Observe: last.Observe, Clock: f.s.policyClock(), Listeners: f.s.Listeners})
	p := resilience.NewPipeline[payments.Quote](append([]resilience.Guard{fb, f.breaker, f.wire, f.deadline}, f.s.FXPolicy.Inject...)...)
	f.pairs[key] = p
	return p, nil
}
