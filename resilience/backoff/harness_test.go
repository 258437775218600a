package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
)

var errBoom = errors.New("boom")

// script is a dependency that returns its outcomes in order, and the last
// one forever after; it counts the attempts it saw.
type script struct {
	results []string
	errs    []error
	calls   int
}

func (s *script) fn(context.Context) (string, error) {
	i := min(s.calls, len(s.errs)-1)
	s.calls++
	var v string
	if i < len(s.results) {
		v = s.results[i]
	}
	return v, s.errs[i]
}

// only narrows a listener to the given kinds of events.
func only(l resilience.Listener, kinds ...resilience.EventKind) resilience.Listener {
	l.Kinds = resilience.KindsOf(kinds...)
	return l
}

// harness builds retries on a skipping mock clock and records their events.
type harness struct {
	clk skipClock
	rec *resiliencetest.Recorder
}

func newHarness() *harness {
	return &harness{clk: skipClock{clock.NewMock()}, rec: resiliencetest.NewRecorder()}
}

func (h *harness) waited() time.Duration { return h.clk.Now().Sub(time.Unix(0, 0)) }

// retry builds a retry from cfg with the harness's clock and listener, and
// a constant 1s schedule unless cfg has one.
func (h *harness) retry(t *testing.T, cfg backoff.RetryConfig) *backoff.Retry {
	t.Helper()
	cfg.Clock = h.clk
	cfg.Listeners = append(cfg.Listeners, h.rec.Listener())
	if cfg.Strategy == nil {
		cfg.Strategy = backoff.Constant(time.Second)
	}
	r, err := backoff.NewRetry(cfg)
	require.NoError(t, err)
	return r
}

func (h *harness) run(t *testing.T, cfg backoff.RetryConfig, s *script) (string, error) {
	t.Helper()
	return resilience.NewPipeline[string](h.retry(t, cfg)).Execute(context.Background(), s.fn)
}

// tb is what the helpers need of a *testing.T, *testing.B or *rapid.T.
type tb interface {
	require.TestingT
	Helper()
}

func newRetry(t tb, cfg backoff.RetryConfig) *backoff.Retry {
	t.Helper()
	r, err := backoff.NewRetry(cfg)
	require.NoError(t, err)
	return r
}

func newExponential(t tb, cfg backoff.ExponentialConfig) backoff.Strategy {
	t.Helper()
	s, err := backoff.NewExponential(cfg)
	require.NoError(t, err)
	return s
}

// requireConfigError checks the fields of a refused configuration.
func requireConfigError(t *testing.T, err error, name, field, rule string) {
	t.Helper()
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "backoff", ce.Component)
	assert.Equal(t, name, ce.Name)
	assert.Equal(t, field, ce.Field)
	assert.Equal(t, rule, ce.Rule)
}
