package riprapotel

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/riprap-go/riprap/resilience"
)

// DefaultBuckets are the histogram bounds, in seconds, when
// [CallDurationConfig.Buckets] is nil: the Prometheus client's defaults,
// so both contrib modules draw the same histogram.
var DefaultBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// CallDurationConfig configures a [CallDuration]. The zero value is valid.
type CallDurationConfig struct {
	// Buckets are the histogram's explicit bounds in seconds, strictly
	// increasing. Nil means [DefaultBuckets].
	Buckets []float64
	// Clock times the calls; nil means the real clock.
	Clock clock.Clock
}

// CallDuration is the opt-in call-duration histogram riprap_call_duration
// (unit s; riprap_call_duration_seconds in Prometheus) with attributes name
// and outcome, fed by the guards it makes. Unlike [Metrics] it records per
// call, so it costs two clock reads and one recording a call; place its
// guards only where the distribution is worth that. Outermost, a guard
// times the whole call with its retries; innermost, one attempt.
//
// Create it with [NewCallDuration]; the zero value is not usable. It is safe
// for concurrent use.
type CallDuration struct {
	h   metric.Float64Histogram
	clk clock.Clock
}

// NewCallDuration creates the histogram on mp's meter for [ScopeName]; a
// nil mp means the global provider. It returns a
// [*resilience.ConfigError] when the buckets are not finite and strictly
// increasing.
func NewCallDuration(mp metric.MeterProvider, cfg CallDurationConfig) (*CallDuration, error) {
	buckets := cfg.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	for i, b := range buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= buckets[i-1]) {
			return nil, &resilience.ConfigError{Component: "riprapotel", Field: "Buckets",
				Rule: "must be finite and strictly increasing", Value: cfg.Buckets}
		}
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	h, err := mp.Meter(ScopeName).Float64Histogram("riprap_call_duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of calls through a riprap guard, by guard name and outcome (success, failure, ignored)."),
		metric.WithExplicitBucketBoundaries(buckets...))
	if err != nil {
		return nil, err
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.New()
	}
	return &CallDuration{h: h, clk: clk}, nil
}

// outcomes are the verdicts a call is labelled with.
var outcomes = []resilience.Outcome{resilience.Success, resilience.Failure, resilience.Ignored}

// Guard returns a guard that times each call through it and records the
// duration under name and the call's outcome by
// [resilience.DefaultOutcome]: a rejection and the caller's cancellation
// are "ignored". A call that panics is recorded as a failure; the panic
// goes on. The call's context goes with each recording, so an SDK that
// keeps exemplars links them to the call's trace.
func (d *CallDuration) Guard(name string) resilience.Guard {
	name = strings.ToValidUTF8(name, "\uFFFD")
	g := timed{h: d.h, clk: d.clk}
	for i, o := range outcomes {
		// Built once here, so a call allocates no attributes.
		g.opts[i] = metric.WithAttributeSet(attribute.NewSet(
			attribute.String("name", name), attribute.String("outcome", o.String())))
	}
	return g
}

type timed struct {
	h    metric.Float64Histogram
	clk  clock.Clock
	opts [3]metric.RecordOption // by position in outcomes
}

func (g timed) Guard(ctx context.Context, next resilience.Next) error {
	start := g.clk.Now()
	o := resilience.Failure // what a panic leaves
	defer func() { g.record(ctx, o, g.clk.Since(start)) }()
	err := next.Run(ctx)
	o = resilience.DefaultOutcome(ctx, err)
	return err
}

func (g timed) record(ctx context.Context, o resilience.Outcome, d time.Duration) {
	for i, want := range outcomes {
		if o == want {
			g.h.Record(ctx, d.Seconds(), g.opts[i])
			return
		}
	}
}
