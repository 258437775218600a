package riprapotel_test

import (
	"context"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	riprapotel "github.com/riprap-go/riprap/contrib/otel"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/fallback"
	"github.com/riprap-go/riprap/resilience/hedge"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// spanEvents runs call inside a recorded span and returns the span's
// events, each as "name key=value …" with the keys sorted.
func spanEvents(t *testing.T, call func(ctx context.Context)) []string {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "pay")
	call(ctx)
	span.End()
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	var out []string
	for _, e := range spans[0].Events {
		var attrs []string
		for _, kv := range e.Attributes {
			attrs = append(attrs, string(kv.Key)+"="+kv.Value.String())
		}
		sort.Strings(attrs)
		out = append(out, strings.TrimSpace(e.Name+" "+strings.Join(attrs, " ")))
	}
	return out
}

func newRetry(t *testing.T, attempts int) *backoff.Retry {
	t.Helper()
	r, err := backoff.NewRetry(backoff.RetryConfig{Name: "bank", MaxAttempts: attempts,
		Strategy: backoff.Constant(0), Clock: clock.NewMock()})
	require.NoError(t, err)
	return r
}

func TestTraceRetries(t *testing.T) {
	retry := newRetry(t, 3)
	events := spanEvents(t, func(ctx context.Context) {
		require.NoError(t, run(ctx, resiliencetest.FailN(2, errDown).Run, riprapotel.Trace(retry)))
	})
	assert.Equal(t, []string{
		"riprap.retry riprap.attempt=2 riprap.error=bank down riprap.name=bank riprap.policy=retry",
		"riprap.retry riprap.attempt=3 riprap.error=bank down riprap.name=bank riprap.policy=retry",
	}, events)
}

func TestTraceRejection(t *testing.T) {
	b, err := breaker.New(breaker.Config{Name: "bank", ConsecutiveFailures: 1, OpenWait: 2 * time.Second,
		Clock: clock.NewMock()})
	require.NoError(t, err)
	traced := riprapotel.Trace(b)
	events := spanEvents(t, func(ctx context.Context) {
		require.ErrorIs(t, run(ctx, fail, traced), errDown) // a failure is no event of the breaker's
		require.ErrorIs(t, run(ctx, ok, traced), breaker.ErrOpen)
	})
	require.Len(t, events, 1)
	assert.Regexp(t, `^riprap.rejection riprap.error=breaker: circuit open \(name "bank", retry after 2s\) `+
		`riprap.name=bank riprap.policy=breaker riprap.retry_after_seconds=2$`, events[0])
}

func TestTraceTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to, err := timeout.New(timeout.Config{Name: "fx", Timeout: time.Second})
		require.NoError(t, err)
		// The function returns the context's cause, which is the timeout's
		// own error: still the timeout's event.
		hang := func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) }
		events := spanEvents(t, func(ctx context.Context) {
			require.ErrorIs(t, run(ctx, hang, riprapotel.Trace(to)), timeout.ErrTimeout)
		})
		assert.Equal(t, []string{"riprap.timeout riprap.name=fx riprap.policy=timeout riprap.timeout_seconds=1"}, events)
	})
}

// TestTraceTimeoutInsideRetry shows each guard reporting its own doing: the
// timeout its deadlines, the retry its retries, none twice.
func TestTraceTimeoutInsideRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		to, err := timeout.New(timeout.Config{Name: "fx", Timeout: time.Second})
		require.NoError(t, err)
		hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		events := spanEvents(t, func(ctx context.Context) {
			require.ErrorIs(t, run(ctx, hang, riprapotel.TraceAll(newRetry(t, 2), to)...), timeout.ErrTimeout)
		})
		assert.Equal(t, []string{
			"riprap.timeout riprap.name=fx riprap.policy=timeout riprap.timeout_seconds=1",
			`riprap.retry riprap.attempt=2 riprap.error=timeout: "fx" deadline of 1s exceeded riprap.name=bank riprap.policy=retry`,
			"riprap.timeout riprap.name=fx riprap.policy=timeout riprap.timeout_seconds=1",
		}, events)
	})
}

func TestTraceFallback(t *testing.T) {
	p := resilience.NewPipeline[string](riprapotel.Trace(fallback.Value("cached quote")))
	events := spanEvents(t, func(ctx context.Context) {
		v, err := p.Execute(ctx, func(context.Context) (string, error) { return "", errDown })
		require.NoError(t, err)
		assert.Equal(t, "cached quote", v)
		v, err = p.Execute(ctx, func(context.Context) (string, error) { return "fresh quote", nil })
		require.NoError(t, err)
		assert.Equal(t, "fresh quote", v)
	})
	assert.Equal(t, []string{"riprap.fallback riprap.error=bank down"}, events)
}

func TestTraceHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hg, err := hedge.New(hedge.Config{Name: "fx", Delay: 10 * time.Millisecond})
		require.NoError(t, err)
		var calls atomic.Int32
		slowThenFast := func(ctx context.Context) error {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}
		events := spanEvents(t, func(ctx context.Context) {
			require.NoError(t, run(ctx, slowThenFast, riprapotel.Trace(hg)))
			synctest.Wait() // the losing attempt has returned
		})
		assert.Equal(t, []string{"riprap.hedge riprap.attempt=2 riprap.name=fx riprap.policy=hedge"}, events)
	})
}

// TestTracePipeline puts every traced decision of one payment on its span,
// in order: the retry after the bank's failure, the breaker's refusal of
// that retry (the failure opened it), then the fallback's answer.
func TestTracePipeline(t *testing.T) {
	b, err := breaker.New(breaker.Config{Name: "bank", ConsecutiveFailures: 1, OpenWait: time.Minute,
		Clock: clock.NewMock()})
	require.NoError(t, err)
	retry, err := backoff.NewRetry(backoff.RetryConfig{Name: "bank", MaxAttempts: 3, Strategy: backoff.Constant(0),
		MaxRetryAfter: time.Second, Clock: clock.NewMock()}) // a minute's refusal is not worth waiting for
	require.NoError(t, err)
	p := resilience.NewPipeline[string](riprapotel.TraceAll(fallback.Value("queued"), retry, b)...)
	events := spanEvents(t, func(ctx context.Context) {
		v, err := p.Execute(ctx, func(context.Context) (string, error) { return "", errDown })
		require.NoError(t, err)
		assert.Equal(t, "queued", v)
	})
	require.Len(t, events, 3)
	assert.Equal(t, "riprap.retry riprap.attempt=2 riprap.error=bank down riprap.name=bank riprap.policy=retry", events[0])
	assert.Regexp(t, `^riprap.rejection .*riprap.name=bank riprap.policy=breaker riprap.retry_after_seconds=60$`, events[1])
	assert.Regexp(t, `^riprap.fallback riprap.error=backoff: 2 attempts: breaker: circuit open`, events[2])
}

func TestTraceWithoutRecordingSpan(t *testing.T) {
	retry := newRetry(t, 2)
	ctx, span := noop.NewTracerProvider().Tracer("test").Start(context.Background(), "pay")
	defer span.End()
	f := resiliencetest.FailN(1, errDown)
	require.NoError(t, run(ctx, f.Run, riprapotel.Trace(retry))) // straight through, nothing to record
	assert.Equal(t, 2, f.Calls())
	require.NoError(t, run(context.Background(), ok, riprapotel.Trace(retry))) // no span at all
}

func TestTraceNil(t *testing.T) {
	assert.Nil(t, riprapotel.Trace(nil))
	err := run(context.Background(), ok, riprapotel.TraceAll(nil)...)
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
}
