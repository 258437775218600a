package breaker_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.EqualError(t, err, "breaker: FailureRate must be in (0,1], got 2")
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
