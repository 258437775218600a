package riprapprom

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riprap-go/riprap/resilience"
)

// CallDurationConfig configures a [CallDuration]. The zero value is valid.
type CallDurationConfig struct {
	// Buckets are the histogram's upper bounds in seconds, strictly
	// increasing. Nil means [prometheus.DefBuckets].
	Buckets []float64
	// Clock times the calls; nil means the real clock.
	Clock clock.Clock
}

// CallDuration is the opt-in call-duration histogram
// riprap_call_duration_seconds{name,outcome}: a [prometheus.Collector] and
// a source of guards that time the calls passing through them. Unlike the
// [Collector]'s metrics it is fed per call, so it costs two clock reads and
// one observation a call; add its guards only where the distribution is
// worth that.
//
// Where a guard sits decides what it times: outermost, the whole call with
// its retries and waits; innermost, one attempt at the dependency.
//
// Create it with [NewCallDuration]; the zero value is not usable. It is safe
// for concurrent use.
type CallDuration struct {
	vec *prometheus.HistogramVec
	clk clock.Clock
}

// NewCallDuration returns the histogram, or a [*resilience.ConfigError] when
// the buckets are not finite and strictly increasing.
func NewCallDuration(cfg CallDurationConfig) (*CallDuration, error) {
	for i, b := range cfg.Buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= cfg.Buckets[i-1]) {
			return nil, &resilience.ConfigError{Component: "riprapprom", Field: "Buckets",
				Rule: "must be finite and strictly increasing", Value: cfg.Buckets}
		}
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.New()
	}
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    callDurationName,
		Help:    "Duration of calls through a riprap guard, by guard name and outcome (success, failure, ignored).",
		Buckets: cfg.Buckets,
	}, []string{"name", "outcome"})
	return &CallDuration{vec: vec, clk: clk}, nil
}

// Describe sends the histogram's description.
func (d *CallDuration) Describe(ch chan<- *prometheus.Desc) { d.vec.Describe(ch) }

// Collect sends the histogram's series.
func (d *CallDuration) Collect(ch chan<- prometheus.Metric) { d.vec.Collect(ch) }

const callDurationName = "riprap_call_duration_seconds"

// outcomes are the verdicts a call is labelled with, by resilience.Outcome.
var outcomes = []resilience.Outcome{resilience.Success, resilience.Failure, resilience.Ignored}

// Guard returns a guard that times each call through it and observes the
// duration under name and the call's outcome by
// [resilience.DefaultOutcome]: a rejection and the caller's cancellation
// are "ignored". A call that panics is observed as a failure; the panic goes
// on. The guard's three series exist, at zero, from the moment it is made,
// so a rate over them is defined before the first failure.
func (d *CallDuration) Guard(name string) resilience.Guard {
	name = strings.ToValidUTF8(name, "\uFFFD")
	g := timed{clk: d.clk}
	for i, o := range outcomes {
		// Resolved once here, so a call pays no label lookup.
		g.obs[i] = d.vec.WithLabelValues(name, o.String())
	}
	return g
}

type timed struct {
	clk clock.Clock
	obs [3]prometheus.Observer // by position in outcomes
}

func (g timed) Guard(ctx context.Context, next resilience.Next) error {
	start := g.clk.Now()
	o := resilience.Failure // what a panic leaves
	defer func() { g.observe(o, g.clk.Since(start)) }()
	err := next.Run(ctx)
	o = resilience.DefaultOutcome(ctx, err)
	return err
}

func (g timed) observe(o resilience.Outcome, d time.Duration) {
	for i, want := range outcomes {
		if o == want {
			g.obs[i].Observe(d.Seconds())
			return
		}
	}
}
