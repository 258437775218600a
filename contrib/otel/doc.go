// Package riprapotel exports riprap's resilience components to
// OpenTelemetry: metrics read from the components' snapshots, an opt-in
// call-duration histogram, and span events for what the policies decide
// during a call.
//
// It is its own Go module, so programs that do not import it download no
// OpenTelemetry code.
//
// # Metrics
//
// [Metrics] registers one observable instrument per metric and a single
// callback that reads every added component's Snapshot at collection time:
// breakers (one by one or a whole registry), rate limiters, keyed limiters,
// bulkheads, adaptive limits, retries, retry budgets, timeouts, health
// checkers, throttles, hedgers and fault injectors. Nothing is set from
// events, so every series is there from the first collection.
//
// The instruments are the metrics of contrib/prometheus, whose package
// documentation lists and explains each one, under names that the
// OpenTelemetry Prometheus exporter translates to exactly those names: one
// set of names whichever module a program uses, and one Grafana dashboard
// (contrib/prometheus/grafana/riprap.json) for both. The rule is
//
//   - an instrument is named like its Prometheus family, with underscores
//     (never dots, so no translation strategy can change the name);
//   - counters are named without _total, which the exporter adds:
//     riprap_circuitbreaker_calls becomes riprap_circuitbreaker_calls_total;
//   - durations have unit "s" and no _seconds, which the exporter adds:
//     riprap_hedge_delay becomes riprap_hedge_delay_seconds;
//   - no instrument has unit "1", for which the exporter would add _ratio:
//     ratios such as riprap_circuitbreaker_failure_rate have no unit.
//
// That holds for the exporter's default strategy,
// otlptranslator.UnderscoreEscapingWithSuffixes, and for
// NoUTF8EscapingWithSuffixes. Configure the exporter with WithoutScopeInfo
// for series without otel_scope_* labels, as contrib/prometheus has them.
// A strategy without suffixes (NoTranslation) keeps the OpenTelemetry
// names.
//
// [CallDuration] is the histogram riprap_call_duration (seconds), fed by the
// guards it makes, one recording per call.
//
// # Span events
//
// [Trace] wraps a guard so that, on the span active in each call's context,
// it records what the guard decided: [EventRetry] and [EventHedge] for each
// attempt after the first, [EventRejection] when it refused the call,
// [EventTimeout] when its deadline fired, [EventFallback] when it answered
// for a failed call. It is a guard rather than a resilience.Listener because
// a listener receives events without the call's context, and so without
// its span. [TraceAll] wraps every guard of a pipeline.
package riprapotel
