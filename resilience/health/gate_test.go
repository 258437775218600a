package health_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGateRejectsWhileUnhealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s script
		s.set(true)
		c, err := health.New(health.Config{Interval: 10 * time.Second, UnhealthyInterval: 4 * time.Second,
			FailuresToUnhealthy: 1, SuccessesToHealthy: 1},
			health.Target{Name: "bank", Probe: s.probe})
		require.NoError(t, err)
		reached := 0
		p := resilience.NewPipeline[string](c.Gate("bank"))
		call := func(context.Context) (string, error) { reached++; return "ok", nil }

		v, err := p.Execute(context.Background(), call)
		assert.NoError(t, err, "unknown lets calls through")
		assert.Equal(t, "ok", v)
		require.NoError(t, c.Start())
		defer c.Stop()
		time.Sleep(time.Second) // synctest: fake time
		_, err = p.Execute(context.Background(), call)
		assert.ErrorIs(t, err, health.ErrUnhealthy)
		assert.True(t, resilience.IsRejected(err))
		after, ok := resilience.RetryAfter(err)
		assert.True(t, ok)
		assert.Equal(t, 3*time.Second, after, "until the next probe")
		assert.Equal(t, 1, reached)

		s.set(false)
		time.Sleep(3*time.Second + time.Millisecond) // past t=4s: probe passes, one success makes it healthy again (synctest: fake time)
		_, err = p.Execute(context.Background(), call)
		assert.NoError(t, err)
		assert.Equal(t, 2, reached)
	})
}

// One gate serves pipelines of every result type and error-only chains.
func TestGateIsSharedAcrossResultTypes(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
		health.Target{Name: "bank", Probe: down})
	require.NoError(t, err)
	gate := c.Gate("bank")
	receipts := resilience.NewPipeline[string](gate)
	statuses := resilience.NewPipeline[int](gate)
	writes := resilience.NewChain(gate)
	_, _ = c.Probe(context.Background(), "bank")
	_, err = receipts.Execute(context.Background(), func(context.Context) (string, error) { return "r", nil })
	assert.ErrorIs(t, err, health.ErrUnhealthy)
	_, err = statuses.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil })
	assert.ErrorIs(t, err, health.ErrUnhealthy)
	assert.ErrorIs(t, writes.Run(context.Background(), func(context.Context) error { return nil }), health.ErrUnhealthy)
}

func TestGateForAnUnknownTargetFailsEveryCall(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second}, health.Target{Name: "bank", Probe: healthy})
	require.NoError(t, err)
	var nilChecker *health.Checker
	for name, g := range map[string]resilience.Guard{"unknown name": c.Gate("bnak"), "nil checker": nilChecker.Gate("bank")} {
		t.Run(name, func(t *testing.T) {
			require.NotNil(t, g)
			reached := false
			err := resilience.Run(context.Background(), func(context.Context) error { reached = true; return nil }, g)
			assert.ErrorIs(t, err, health.ErrUnknownTarget)
			assert.False(t, reached, "the dependency is never called")
			assert.False(t, resilience.IsRejected(err), "a programming error, not a refusal to retry later")
		})
	}
}

// Rejection events are per call: built and delivered only for a listener
// that subscribes to them.
func TestGateRejectionEventsOnlyWhenWanted(t *testing.T) {
	rec := resiliencetest.NewRecorder()
	changes := 0
	onlyChanges := resilience.OnStateChange(func(resilience.Event) { changes++ })
	for _, ls := range []resilience.Listeners{{rec.Listener()}, {onlyChanges}} {
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1, Listeners: ls},
			health.Target{Name: "bank", Probe: down})
		require.NoError(t, err)
		_, _ = c.Probe(context.Background(), "bank")
		err = resilience.Run(context.Background(), func(context.Context) error { return nil }, c.Gate("bank"))
		require.ErrorIs(t, err, health.ErrUnhealthy)
	}
	assert.Equal(t, []resilience.EventKind{resilience.EventStateChange, resilience.EventOutcome, resilience.EventRejection}, rec.Kinds())
	rej := rec.Events()[2]
	assert.Equal(t, "health", rej.Policy)
	assert.Equal(t, "bank", rej.Name)
	assert.ErrorIs(t, rej.Err, health.ErrUnhealthy)
	assert.Equal(t, 1, changes)
}

// The gate is a Stepper, so pipelines of it take the stepped path; its
// Guard, reached through a GuardFunc that hides the Stepper, refuses and
// admits the same calls.
func TestGateRefusesAlikeAsStepperAndAsGuard(t *testing.T) {
	c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
		health.Target{Name: "bank", Probe: down})
	require.NoError(t, err)
	gate := c.Gate("bank")
	require.Implements(t, (*resilience.Stepper)(nil), gate)
	stepped := resilience.NewChain(gate)
	guarded := resilience.NewChain(resilience.GuardFunc(gate.Guard))
	ok := func(context.Context) error { return nil }
	require.NoError(t, stepped.Run(context.Background(), ok), "unknown lets calls through")
	require.NoError(t, guarded.Run(context.Background(), ok))
	_, _ = c.Probe(context.Background(), "bank")
	assert.ErrorIs(t, stepped.Run(context.Background(), ok), health.ErrUnhealthy)
	assert.ErrorIs(t, guarded.Run(context.Background(), ok), health.ErrUnhealthy)
}
