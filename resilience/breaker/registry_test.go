package breaker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
)

func TestRegistryOneInstancePerNameUnderConcurrency(t *testing.T) {
	var (
		reg   breaker.Registry
		start = make(chan struct{})
		wg    sync.WaitGroup
		got   [32]*breaker.Breaker
	)
	for i := range got {
		wg.Go(func() {
			<-start
			b, err := reg.GetOrCreate(fmt.Sprint("dep", i%4), breaker.Config{})
			assert.NoError(t, err)
			got[i] = b
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, 4, reg.Len())
	for i, b := range got {
		require.NotNil(t, b)
		assert.Same(t, got[i%4], b, "goroutine %d", i)
		assert.Equal(t, fmt.Sprint("dep", i%4), b.Name())
	}
}

func TestRegistryGetRemoveAll(t *testing.T) {
	var reg breaker.Registry
	_, ok := reg.Get("fx")
	assert.False(t, ok, "Get on an empty registry")
	assert.False(t, reg.Remove("fx"))

	_, err := reg.GetOrCreate("bad", breaker.Config{FailureRate: 2})
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "bad", ce.Name)
	assert.Equal(t, "FailureRate", ce.Field)
	assert.Zero(t, reg.Len(), "a refused config adds nothing")

	for _, name := range []string{"log", "bank", "fx"} {
		_, err := reg.GetOrCreate(name, breaker.Config{Name: "ignored"})
		require.NoError(t, err)
	}
	b, ok := reg.Get("fx")
	require.True(t, ok)
	assert.Equal(t, "fx", b.Name(), "the registry names the breaker")

	var names []string
	for name, b := range reg.All() {
		names = append(names, name)
		reg.Remove(b.Name()) // the body may use the registry
	}
	assert.Equal(t, []string{"bank", "fx", "log"}, names)
	assert.Zero(t, reg.Len())
	assert.Empty(t, reg.Snapshots())
}

func TestRegisterAddsABreakerBuiltElsewhere(t *testing.T) {
	var reg breaker.Registry
	bank, err := breaker.New(breaker.Config{Name: "bank", ConsecutiveFailures: 1})
	require.NoError(t, err)
	require.NoError(t, reg.Register(bank))
	require.NoError(t, reg.Register(bank), "registering it again is a no-op")

	got, ok := reg.Get("bank")
	require.True(t, ok)
	assert.Same(t, bank, got)
	same, err := reg.GetOrCreate("bank", breaker.Config{ConsecutiveFailures: 1})
	require.NoError(t, err)
	assert.Same(t, bank, same, "GetOrCreate finds it")

	other, err := breaker.New(breaker.Config{Name: "bank"})
	require.NoError(t, err)
	assert.ErrorIs(t, reg.Register(other), breaker.ErrNameTaken)
	got, _ = reg.Get("bank")
	assert.Same(t, bank, got, "the first one stays")

	assert.ErrorIs(t, reg.Register(nil), breaker.ErrNilBreaker)
	assert.Equal(t, 1, reg.Len())
	assert.Equal(t, []string{"bank"}, snapshotNames(reg.Snapshots()))
}

func snapshotNames(ss []breaker.Snapshot) []string {
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	return names
}

// GetOrCreate never hands back, silently, a breaker made with other
// settings; "other" is judged after defaults are applied.
func TestGetOrCreateRefusesADifferentConfig(t *testing.T) {
	strategy := backoff.Constant(time.Second)
	base := breaker.Config{FailureRate: 0.5, WindowSize: 20, OpenBackoff: strategy}
	tests := []struct {
		name   string
		change func(*breaker.Config)
		field  string // "" when the configs match
	}{
		{"identical", func(*breaker.Config) {}, ""},
		{"defaults spelled out", func(c *breaker.Config) {
			c.WindowBuckets, c.OpenWait, c.MaxProbes, c.MinimumCalls = 10, breaker.DefaultOpenWait, 1, breaker.DefaultMinimumCalls
		}, ""},
		{"other name field", func(c *breaker.Config) { c.Name = "ignored: the registry names it" }, ""},
		{"other clock, classifier and listeners", func(c *breaker.Config) {
			c.Clock = clock.NewMock()
			c.Classifier = func(context.Context, error) resilience.Outcome { return resilience.Unclassified }
			c.Listeners = resilience.Listeners{resilience.OnStateChange(func(resilience.Event) {})}
		}, ""},
		{"equal strategy value", func(c *breaker.Config) { c.OpenBackoff = backoff.Constant(time.Second) }, ""},
		{"failure rate", func(c *breaker.Config) { c.FailureRate = 0.6 }, "FailureRate"},
		{"a rule added", func(c *breaker.Config) { c.ConsecutiveFailures = 3 }, "ConsecutiveFailures"},
		{"window size", func(c *breaker.Config) { c.WindowSize = 40 }, "WindowSize"},
		{"time window", func(c *breaker.Config) { c.WindowSize, c.WindowDuration = 0, time.Minute }, "WindowSize"},
		{"open wait", func(c *breaker.Config) { c.OpenWait = time.Second }, "OpenWait"},
		{"other strategy", func(c *breaker.Config) { c.OpenBackoff = backoff.Constant(time.Minute) }, "OpenBackoff"},
		{"no strategy", func(c *breaker.Config) { c.OpenBackoff = nil }, "OpenBackoff"},
		{"retry-after", func(c *breaker.Config) { c.IgnoreRetryAfter = true }, "IgnoreRetryAfter"},
		{"probes", func(c *breaker.Config) { c.SuccessesToClose = 2 }, "SuccessesToClose"},
		{"half-open", func(c *breaker.Config) { c.MaxHalfOpen = time.Hour }, "MaxHalfOpen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reg breaker.Registry
			first, err := reg.GetOrCreate("bank", base)
			require.NoError(t, err)
			cfg := base
			tt.change(&cfg)
			got, err := reg.GetOrCreate("bank", cfg)
			if tt.field == "" {
				require.NoError(t, err)
				assert.Same(t, first, got)
				return
			}
			require.ErrorIs(t, err, breaker.ErrConfigMismatch)
			assert.ErrorContains(t, err, `breaker "bank" has `+tt.field+" ")
			assert.Nil(t, got)
			again, _ := reg.Get("bank")
			assert.Same(t, first, again, "the registered breaker stays")
		})
	}
}

func TestGetOrCreateValidatesEveryTime(t *testing.T) {
	var reg breaker.Registry
	_, err := reg.GetOrCreate("bank", breaker.Config{})
	require.NoError(t, err)
	_, err = reg.GetOrCreate("bank", breaker.Config{MaxProbes: -1})
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce, "a bad config is refused even when the breaker exists")
	assert.Equal(t, "MaxProbes", ce.Field)
}

// Programs look breakers up per request (one per host): finding one
// allocates nothing.
func TestGetOrCreateOfAnExistingBreakerAllocatesNothing(t *testing.T) {
	var reg breaker.Registry
	cfg := breaker.Config{FailureRate: 0.5, OpenBackoff: backoff.Constant(time.Second)}
	first, err := reg.GetOrCreate("api.example.com", cfg)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		b, err := reg.GetOrCreate("api.example.com", cfg)
		if b != first || err != nil {
			t.Fatalf("got %p, %v", b, err)
		}
	})
	assert.Zero(t, allocs)
}

// funcStrategy is a strategy Go cannot compare; structStrategy one whose
// comparison panics unless guarded.
type (
	funcStrategy   func(int, time.Duration) time.Duration
	structStrategy struct{ inner any }
)

func (f funcStrategy) Delay(n int, prev time.Duration) time.Duration { return f(n, prev) }
func (structStrategy) Delay(int, time.Duration) time.Duration        { return time.Second }

func TestGetOrCreateWithStrategiesGoCannotCompare(t *testing.T) {
	for name, s := range map[string]backoff.Strategy{
		"func":                  funcStrategy(func(int, time.Duration) time.Duration { return time.Second }),
		"struct holding a func": structStrategy{inner: func() {}},
	} {
		t.Run(name, func(t *testing.T) {
			var reg breaker.Registry
			first, err := reg.GetOrCreate("bank", breaker.Config{OpenBackoff: s})
			require.NoError(t, err)
			var again *breaker.Breaker
			require.NotPanics(t, func() { again, err = reg.GetOrCreate("bank", breaker.Config{OpenBackoff: s}) })
			require.NoError(t, err, "taken as equal")
			assert.Same(t, first, again)
			_, err = reg.GetOrCreate("bank", breaker.Config{OpenBackoff: doubling{}})
			assert.ErrorIs(t, err, breaker.ErrConfigMismatch, "another type differs")
		})
	}
}
