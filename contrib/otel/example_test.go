package riprapotel_test

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	riprapotel "github.com/riprap-go/riprap/contrib/otel"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/fallback"
)

func ExampleMetrics() {
	// Export through the OpenTelemetry Prometheus exporter: the names are
	// those of contrib/prometheus.
	reg := prometheus.NewRegistry()
	exporter, _ := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer mp.Shutdown(context.Background())

	bank, _ := breaker.New(breaker.Config{Name: "bank"})
	metrics, _ := riprapotel.NewMetrics(mp)
	metrics.AddBreaker(bank)
	defer metrics.Close()

	families, _ := reg.Gather()
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	sort.Strings(names)
	for _, n := range names[:4] {
		fmt.Println(n)
	}
	// Output:
	// riprap_circuitbreaker_buffered_calls
	// riprap_circuitbreaker_calls_total
	// riprap_circuitbreaker_consecutive_failures
	// riprap_circuitbreaker_failure_rate
}

func ExampleTraceAll() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())

	retry, _ := backoff.NewRetry(backoff.RetryConfig{Name: "fx", MaxAttempts: 2, Strategy: backoff.Constant(0)})
	quotes := resilience.NewPipeline[string](riprapotel.TraceAll(fallback.Value("yesterday's rate"), retry)...)

	ctx, span := tp.Tracer("example").Start(context.Background(), "quote")
	rate, _ := quotes.Execute(ctx, func(context.Context) (string, error) { return "", errors.New("fx down") })
	span.End()

	fmt.Println(rate)
	for _, e := range exp.GetSpans()[0].Events {
		fmt.Println(e.Name)
	}
	// Output:
	// yesterday's rate
	// riprap.retry
	// riprap.fallback
}
