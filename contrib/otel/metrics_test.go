package riprapotel_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	riprapotel "github.com/riprap-go/riprap/contrib/otel"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// manual returns a meter provider read by a ManualReader.
func manual(t *testing.T) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// collect returns the metrics of one collection by instrument name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// point returns the value of the data point of m whose attributes are kvs.
func point(t *testing.T, m metricdata.Metrics, kvs ...attribute.KeyValue) float64 {
	t.Helper()
	want := attribute.NewSet(kvs...)
	var points []metricdata.DataPoint[float64]
	switch d := m.Data.(type) {
	case metricdata.Gauge[float64]:
		points = d.DataPoints
	case metricdata.Sum[float64]:
		require.True(t, d.IsMonotonic, "%s is a counter", m.Name)
		require.Equal(t, metricdata.CumulativeTemporality, d.Temporality)
		points = d.DataPoints
	default:
		t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
	}
	for _, p := range points {
		if p.Attributes.Equals(&want) {
			return p.Value
		}
	}
	t.Fatalf("%s: no point %v", m.Name, want.Encoded(attribute.DefaultEncoder()))
	return 0
}

func TestMetricsReadSnapshotsAtCollection(t *testing.T) {
	mp, reader := manual(t)
	m, err := riprapotel.NewMetrics(mp)
	require.NoError(t, err)
	clk := clock.NewMock()
	b, err := breaker.New(breaker.Config{Name: "bank", ConsecutiveFailures: 1, OpenWait: time.Second, Clock: clk})
	require.NoError(t, err)
	m.AddBreaker(b) // no listener anywhere: the instruments read the snapshot

	name := attribute.String("name", "bank")
	got := collect(t, reader)
	assert.Equal(t, 1.0, point(t, got["riprap_circuitbreaker_state"], name, attribute.String("state", "closed")))
	assert.Equal(t, 0.0, point(t, got["riprap_circuitbreaker_state"], name, attribute.String("state", "open")))

	require.ErrorIs(t, run(context.Background(), fail, b), errDown)
	require.ErrorIs(t, run(context.Background(), ok, b), breaker.ErrOpen)
	got = collect(t, reader)
	assert.Equal(t, 0.0, point(t, got["riprap_circuitbreaker_state"], name, attribute.String("state", "closed")))
	assert.Equal(t, 1.0, point(t, got["riprap_circuitbreaker_state"], name, attribute.String("state", "open")))
	calls := got["riprap_circuitbreaker_calls"]
	assert.Equal(t, 1.0, point(t, calls, attribute.String("kind", "failed"), name))
	assert.Equal(t, 1.0, point(t, calls, attribute.String("kind", "not_permitted"), name))
	assert.Equal(t, 0.0, point(t, calls, attribute.String("kind", "successful"), name))
	assert.Equal(t, 1.0, point(t, got["riprap_circuitbreaker_transitions"], name))
}

func TestMetricsInstruments(t *testing.T) {
	mp, reader := manual(t)
	m, err := riprapotel.NewMetrics(mp)
	require.NoError(t, err)
	addAll(m, newComponents(t, clock.NewMock()))
	got := collect(t, reader)

	hedgeDelay := got["riprap_hedge_delay"]
	assert.Equal(t, "s", hedgeDelay.Unit)
	assert.Equal(t, 0.02, point(t, hedgeDelay, attribute.String("name", "fx")))
	assert.Equal(t, 1.0, point(t, got["riprap_health_status"], attribute.String("target", "bank")))
	assert.Equal(t, 1.0, point(t, got["riprap_ratelimiter_keyed_rejected_calls"],
		attribute.String("name", "merchants"), attribute.String("reason", "limited")))
	assert.Equal(t, 2.0, point(t, got["riprap_bulkhead_available_concurrent_calls"], attribute.String("name", "ledger")))
	assert.Equal(t, 1.0, point(t, got["riprap_retry_retries"], attribute.String("name", "bank")))
	assert.Equal(t, 1.0, point(t, got["riprap_chaos_calls"], attribute.String("name", "bank-faults"),
		attribute.String("fault", "fault"), attribute.String("decision", "injected")))
	assert.Equal(t, "Circuit breaker state: 1 for the state the breaker is in, 0 for the others.",
		got["riprap_circuitbreaker_state"].Description)
}

func TestMetricsClose(t *testing.T) {
	mp, reader := manual(t)
	m, err := riprapotel.NewMetrics(mp)
	require.NoError(t, err)
	b, err := breaker.New(breaker.Config{Name: "bank"})
	require.NoError(t, err)
	m.AddBreaker(b)
	require.Contains(t, collect(t, reader), "riprap_circuitbreaker_state")

	require.NoError(t, m.Close())
	assert.NotContains(t, collect(t, reader), "riprap_circuitbreaker_state")
	var zero *riprapotel.Metrics
	assert.Error(t, zero.Close()) // never a panic
}

func TestMetricsSkipNilSources(t *testing.T) {
	mp, reader := manual(t)
	m, err := riprapotel.NewMetrics(mp)
	require.NoError(t, err)
	m.AddBreaker(nil).AddBreakers(nil).AddLimiter(nil).AddKeyed(nil).AddBulkhead(nil).AddAdaptive(nil).
		AddRetry(nil).AddBudget("b", nil).AddTimeout(nil).AddChecker(nil).AddThrottle(nil).AddHedger(nil).
		AddInjector(nil)
	assert.Empty(t, collect(t, reader))
}

func TestMetricsRepairInvalidNames(t *testing.T) {
	mp, reader := manual(t)
	m, err := riprapotel.NewMetrics(mp)
	require.NoError(t, err)
	b, err := breaker.New(breaker.Config{Name: "bad\xffname"})
	require.NoError(t, err)
	m.AddBreaker(b)
	got := collect(t, reader)
	assert.Equal(t, 1.0, point(t, got["riprap_circuitbreaker_state"],
		attribute.String("name", "bad\uFFFDname"), attribute.String("state", "closed")))
}

func TestCallDurationRecords(t *testing.T) {
	mp, reader := manual(t)
	clk := clock.NewMock()
	d, err := riprapotel.NewCallDuration(mp, riprapotel.CallDurationConfig{Buckets: []float64{0.1, 1}, Clock: clk})
	require.NoError(t, err)
	guard := d.Guard("bank")
	require.NoError(t, run(context.Background(), func(context.Context) error { clk.Add(300 * time.Millisecond); return nil }, guard))
	assert.Panics(t, func() { _ = run(context.Background(), func(context.Context) error { panic("boom") }, guard) })

	h, isHistogram := collect(t, reader)["riprap_call_duration"].Data.(metricdata.Histogram[float64])
	require.True(t, isHistogram)
	byOutcome := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, p := range h.DataPoints {
		o, _ := p.Attributes.Value("outcome")
		byOutcome[o.AsString()] = p
	}
	require.Len(t, byOutcome, 2)
	assert.Equal(t, []float64{0.1, 1}, byOutcome["success"].Bounds)
	assert.Equal(t, []uint64{0, 1, 0}, byOutcome["success"].BucketCounts)
	assert.InDelta(t, 0.3, byOutcome["success"].Sum, 1e-9)
	assert.Equal(t, uint64(1), byOutcome["failure"].Count)
}

func TestCallDurationRefusesBadBuckets(t *testing.T) {
	_, err := riprapotel.NewCallDuration(nil, riprapotel.CallDurationConfig{Buckets: []float64{1, 1}})
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Buckets", ce.Field)
}
