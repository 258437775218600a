package riprapotel_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	riprapotel "github.com/riprap-go/riprap/contrib/otel"
	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/resilience"
)

// family is a gathered metric family reduced to what both exports must
// agree on: name, type, help, and every series' labels and value.
type family struct {
	typ, help string
	series    []string
}

func reduce(t *testing.T, g prometheus.Gatherer) map[string]family {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	out := map[string]family{}
	for _, mf := range mfs {
		f := family{typ: mf.GetType().String(), help: mf.GetHelp()}
		for _, m := range mf.GetMetric() {
			f.series = append(f.series, seriesText(m))
		}
		sort.Strings(f.series)
		out[mf.GetName()] = f
	}
	return out
}

func seriesText(m *dto.Metric) string {
	var labels []string
	for _, l := range m.GetLabel() {
		labels = append(labels, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(labels)
	key := "{" + strings.Join(labels, ",") + "} "
	switch {
	case m.Gauge != nil:
		return key + fmt.Sprint(m.GetGauge().GetValue())
	case m.Counter != nil:
		return key + fmt.Sprint(m.GetCounter().GetValue())
	case m.Histogram != nil:
		h := m.GetHistogram()
		var buckets []string
		for _, b := range h.GetBucket() {
			buckets = append(buckets, fmt.Sprintf("%g:%d", b.GetUpperBound(), b.GetCumulativeCount()))
		}
		return key + fmt.Sprintf("count=%d sum=%g buckets=%v", h.GetSampleCount(), h.GetSampleSum(), buckets)
	}
	return key + "?"
}

// TestOneSetOfNames exports the same components through contrib/prometheus
// and through this package with the OpenTelemetry Prometheus exporter, and
// requires the two gathers to be identical: the same family names (no
// riprap_circuitbreaker_state beside a riprap_circuit_breaker_state), types,
// help texts, labels and values. Both translation strategies that add
// Prometheus suffixes give the same names, since the instruments use no
// dots.
func TestOneSetOfNames(t *testing.T) {
	for _, strategy := range []otlptranslator.TranslationStrategyOption{
		otlptranslator.UnderscoreEscapingWithSuffixes, otlptranslator.NoUTF8EscapingWithSuffixes,
	} {
		t.Run(string(strategy), func(t *testing.T) {
			clk := clock.NewMock()
			c := newComponents(t, clk)

			promReg := prometheus.NewPedanticRegistry()
			promDurations, err := riprapprom.NewCallDuration(riprapprom.CallDurationConfig{Clock: clk})
			require.NoError(t, err)
			promReg.MustRegister(addAll(riprapprom.NewCollector(), c), promDurations)

			otelReg := prometheus.NewPedanticRegistry()
			exporter, err := otelprom.New(otelprom.WithRegisterer(otelReg), otelprom.WithTranslationStrategy(strategy),
				otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
			require.NoError(t, err)
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
			t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			m, err := riprapotel.NewMetrics(mp)
			require.NoError(t, err)
			addAll(m, c)
			otelDurations, err := riprapotel.NewCallDuration(mp, riprapotel.CallDurationConfig{Clock: clk})
			require.NoError(t, err)

			// Both histograms time the same calls, one of each outcome.
			pipeline := resilience.NewChain(promDurations.Guard("bank"), otelDurations.Guard("bank"), c.breaker)
			timed := func(d time.Duration, err error) func(context.Context) error {
				return func(context.Context) error { clk.Add(d); return err }
			}
			ctx := context.Background()
			require.NoError(t, pipeline.Run(ctx, timed(30*time.Millisecond, nil)))
			require.Error(t, pipeline.Run(ctx, timed(2*time.Second, errDown)))
			require.Error(t, pipeline.Run(ctx, timed(time.Second, errDown))) // opens the breaker
			require.Error(t, pipeline.Run(ctx, timed(0, nil)))               // refused: ignored

			want, got := reduce(t, promReg), reduce(t, otelReg)
			assert.Equal(t, sortedKeys(want), sortedKeys(got), "family names")
			for name, f := range want {
				assert.Equal(t, f, got[name], name)
			}
			assert.ElementsMatch(t, riprapprom.MetricNames(), sortedKeys(got), "every family, by the documented names")
		})
	}
}

func sortedKeys(m map[string]family) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
