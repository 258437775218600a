package resiliencetest_test

import (
	"sync"
	"testing"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func change(from, to string) resilience.Event {
	return resilience.Event{Kind: resilience.EventStateChange, From: from, To: to}
}

func TestRecorderKeepsEventsInOrder(t *testing.T) {
	r := resiliencetest.NewRecorder()
	l := r.Listener()
	require.Equal(t, resilience.AllKinds, l.Kinds, "a recorder listens to every kind")
	l.Func(change("closed", "open"))
	l.Func(resilience.Event{Kind: resilience.EventRejection, Name: "bank"})
	l.Func(change("open", "half-open"))
	l.Func(resilience.Event{Kind: resilience.EventLimitChange, From: "10/s", To: "5/s"})

	assert.Equal(t, []string{"closed->open", "open->half-open"}, r.StateChanges())
	assert.Equal(t, []resilience.EventKind{
		resilience.EventStateChange, resilience.EventRejection, resilience.EventStateChange, resilience.EventLimitChange,
	}, r.Kinds())
	assert.Equal(t, 2, r.Count(resilience.EventStateChange))
	assert.Equal(t, 1, r.Count(resilience.EventRejection))
	assert.Zero(t, r.Count(resilience.EventOutcome))
	require.Len(t, r.Events(), 4)
	assert.Equal(t, "bank", r.Events()[1].Name)

	r.Reset()
	assert.Empty(t, r.Events())
	assert.Empty(t, r.StateChanges())
	assert.Empty(t, r.Kinds())
}

func TestRecorderEventsIsACopy(t *testing.T) {
	var r resiliencetest.Recorder // the zero value works
	r.Listener().Func(change("closed", "open"))
	events := r.Events()
	events[0].To = "tampered"
	assert.Equal(t, []string{"closed->open"}, r.StateChanges())
}

func TestRecorderThroughADispatcher(t *testing.T) {
	r := resiliencetest.NewRecorder()
	d := resilience.NewDispatcher(resilience.Listeners{r.Listener()})
	assert.True(t, d.Wants(resilience.EventOutcome), "a recorder subscribes to per-call events too")
	d.Enqueue(change("closed", "open"))
	d.Flush()
	d.Emit(resilience.Event{Kind: resilience.EventOutcome, Outcome: resilience.Failure})
	assert.Equal(t, []resilience.EventKind{resilience.EventStateChange, resilience.EventOutcome}, r.Kinds())
}

func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	r := resiliencetest.NewRecorder()
	l := r.Listener()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				l.Func(resilience.Event{Kind: resilience.EventOutcome})
				_ = r.Count(resilience.EventOutcome)
				_ = r.StateChanges()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 800, r.Count(resilience.EventOutcome))
}
