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

// fxPath quotes through one pipeline per currency pair, each with its own
// last good quote, all sharing the FX breaker.
type fxPath struct {
	cfg     *Config
	breaker *breaker.Breaker

	mu    sync.Mutex // protects pairs
	pairs map[[2]payments.Currency]resilience.Func[payments.Quote]
}

type conversion struct {
	settled  payments.Money
	quote    *payments.Quote
	fallback bool
	age      time.Duration
}

func newFXPath(cfg *Config) (*fxPath, error) {
	bc, err := cfg.breakerConfig("fx", cfg.FXPolicy.Breaker)
	if err != nil {
		return nil, err
	}
	b, err := cfg.Registry.GetOrCreate("fx", bc)
	if err != nil {
		return nil, err
	}
	return &fxPath{cfg: cfg, breaker: b, pairs: make(map[[2]payments.Currency]resilience.Func[payments.Quote])}, nil
}

// convert settles req's amount in its target currency: unchanged when there
// is none, else converted at a quote (half-even rounding).
func (f *fxPath) convert(ctx context.Context, req payments.PaymentRequest) (conversion, error) {
	from, to := req.Amount.Currency(), req.TargetCurrency
	if to == (payments.Currency{}) || to == from {
		return conversion{settled: req.Amount}, nil
	}
	quote, err := f.pair(from, to)
	if err != nil {
		return conversion{}, err
	}
	ctx, rep := fallback.WithReport(ctx)
	q, err := quote(ctx)
	if err != nil {
		return conversion{}, err
	}
	m, err := req.Amount.Convert(q.Rate, to, payments.HalfEven)
	if err != nil {
		return conversion{}, err
	}
	return conversion{settled: m, quote: &q, fallback: rep.Used(), age: rep.Age()}, nil
}

// pair returns the pipeline of a currency pair, building it on first use:
// fallback to the last good quote → breaker → timeout → FX.
func (f *fxPath) pair(from, to payments.Currency) (resilience.Func[payments.Quote], error) {
	key := [2]payments.Currency{from, to}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fn, ok := f.pairs[key]; ok {
		return fn, nil
	}
	last, err := fallback.NewLastGood[payments.Quote](f.cfg.FXPolicy.MaxStaleness, f.cfg.Clock)
	if err != nil {
		return nil, err
	}
	fb, err := fallback.New(last.Alternative, fallback.Config[payments.Quote]{Name: "fx " + from.Code() + "/" + to.Code(),
		Observe: last.Observe, Clock: f.cfg.Clock, Listeners: f.cfg.Listeners})
	if err != nil {
		return nil, err
	}
	deadline, err := timeout.NewWithConfig[payments.Quote](timeout.Config{Timeout: f.cfg.FXPolicy.Timeout, Name: "fx",
		Clock: timeoutClock(f.cfg), Listeners: f.cfg.Listeners})
	if err != nil {
		return nil, err
	}
	p, err := resilience.NewPipeline(fb, breaker.Policy[payments.Quote](f.breaker), deadline)
	if err != nil {
		return nil, err
	}
	fx := f.cfg.FX
	fn := p.Wrap(func(ctx context.Context) (payments.Quote, error) { return fx.Quote(ctx, from, to) })
	f.pairs[key] = fn
	return fn, nil
}
