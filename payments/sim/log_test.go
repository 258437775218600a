package sim_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
)

func logEntry(id string) payments.Entry {
	return payments.Entry{PaymentID: id, TransferID: "tr_" + id, Payer: alice, Payee: bob,
		Amount: payments.MustParseMoney("1.00 USD")}
}

func batchOf(n int) []payments.Entry {
	out := make([]payments.Entry, n)
	for i := range out {
		out[i] = logEntry(fmt.Sprintf("p%03d", i))
	}
	return out
}

// failedIndexes returns where results holds an error, checking that each
// is an injected, retryable one.
func failedIndexes(t *testing.T, results []error) []int {
	t.Helper()
	var out []int
	for i, err := range results {
		if err != nil {
			require.ErrorIs(t, err, sim.ErrInjected)
			require.ErrorIs(t, err, httpapi.ErrOverloaded, "retryable, not processed")
			require.False(t, payments.IsPermanent(err))
			out = append(out, i)
		}
	}
	return out
}

func TestLogFailsSingleEntriesOfABatch(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{Seed: 5})
	require.NoError(t, l.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(30), RetryAfter: time.Second}))
	results, err := l.AppendBatch(context.Background(), batchOf(200))
	require.NoError(t, err)
	failed := failedIndexes(t, results)
	assert.Greater(t, len(failed), 30, "about 60 of 200")
	assert.Less(t, len(failed), 90)
	d, ok := resilience.RetryAfter(results[failed[0]])
	assert.True(t, ok)
	assert.Equal(t, time.Second, d)
	st := l.Stats()
	assert.Equal(t, sim.LogStats{Appends: 200, Stored: 200 - len(failed), Faults: len(failed), Batches: 1}, st)
	assert.Len(t, l.Entries(), 200-len(failed), "a failed entry is not stored, the others are")

	require.NoError(t, l.SetFaults(sim.LogFaults{}))
	results, err = l.AppendBatch(context.Background(), batchOf(200))
	require.NoError(t, err)
	assert.Empty(t, failedIndexes(t, results))
	assert.Len(t, l.Entries(), 200)
	assert.Equal(t, 200-len(failed), l.Stats().Duplicates, "sent again: stored once")
}

func TestLogBatchFailsWhole(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	require.NoError(t, l.SetFaults(sim.LogFaults{BatchErrorRate: sim.Always}))
	results, err := l.AppendBatch(context.Background(), batchOf(3))
	assert.ErrorIs(t, err, sim.ErrInjected)
	assert.Nil(t, results)
	assert.Equal(t, sim.LogStats{Batches: 1, BatchFaults: 1}, l.Stats())
	require.NoError(t, l.Append(context.Background(), logEntry("single")), "a batch fault does not touch Append")

	results, err = l.AppendBatch(context.Background(), make([]payments.Entry, payments.MaxLogBatch+1))
	assert.ErrorIs(t, err, payments.ErrBatchTooLarge)
	assert.Nil(t, results)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.AppendBatch(ctx, batchOf(1))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, l.Entries(), 1)
}

func TestLogBatchAnswersEachEntry(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	require.NoError(t, l.Append(context.Background(), logEntry("p1")))
	changed := logEntry("p2")
	changed.Amount = payments.MustParseMoney("2.00 USD")
	results, err := l.AppendBatch(context.Background(), []payments.Entry{
		logEntry("p1"), {PaymentID: "bad id"}, logEntry("p2"), changed, logEntry("p3"),
	})
	require.NoError(t, err)
	assert.NoError(t, results[0])
	assert.ErrorIs(t, results[1], payments.ErrInvalidRequest)
	assert.NoError(t, results[2])
	assert.ErrorIs(t, results[3], payments.ErrIdempotencyConflict)
	assert.NoError(t, results[4])
	assert.Equal(t, sim.LogStats{Appends: 5, Stored: 3, Duplicates: 1, Conflicts: 1, Batches: 1}, l.Stats())
}

// Faults are drawn from the seed, or from an injected source: the same
// seed fails the same entries.
func TestLogFaultsAreReplayable(t *testing.T) {
	run := func(cfg sim.LogConfig) []int {
		l := sim.NewLog(cfg)
		require.NoError(t, l.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(30)}))
		results, err := l.AppendBatch(context.Background(), batchOf(100))
		require.NoError(t, err)
		return failedIndexes(t, results)
	}
	assert.Equal(t, run(sim.LogConfig{Seed: 9}), run(sim.LogConfig{Seed: 9}))
	assert.NotEqual(t, run(sim.LogConfig{Seed: 9}), run(sim.LogConfig{Seed: 10}))
	src := func() rand.Source { return rand.NewChaCha8([32]byte{1, 2, 3}) }
	assert.Equal(t, run(sim.LogConfig{Source: src()}), run(sim.LogConfig{Source: src(), Seed: 99}), "Source wins over Seed")
}

func TestLogSetFaultsIsValidated(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	for _, c := range []struct {
		f     sim.LogFaults
		field string
	}{
		{sim.LogFaults{ErrorRate: -1}, "LogFaults.ErrorRate"},
		{sim.LogFaults{BatchErrorRate: sim.Always + 1}, "LogFaults.BatchErrorRate"},
		{sim.LogFaults{RetryAfter: -1}, "LogFaults.RetryAfter"},
	} {
		var ce *resilience.ConfigError
		require.ErrorAs(t, l.SetFaults(c.f), &ce)
		assert.Equal(t, c.field, ce.Field)
	}
	results, err := l.AppendBatch(context.Background(), batchOf(10))
	require.NoError(t, err)
	assert.Empty(t, failedIndexes(t, results), "refused faults leave none")
}

func TestLogIsSafeForConcurrentUse(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{Seed: 1})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				_, _ = l.AppendBatch(context.Background(), batchOf(10+g))
				_ = l.Append(context.Background(), logEntry(fmt.Sprintf("s%d-%d", g, i)))
			}
		})
		wg.Go(func() {
			for i := range 20 {
				_ = l.SetFaults(sim.LogFaults{ErrorRate: sim.Chance(i * 500), BatchErrorRate: sim.Percent(g)})
			}
		})
	}
	wg.Wait()
	st := l.Stats()
	assert.Equal(t, 80, st.Batches)
	assert.Equal(t, st.Appends, st.Stored+st.Duplicates+st.Conflicts+st.Faults)
	assert.Equal(t, st.Stored, len(l.Entries()))
}

// The injector's latency is per request: a batch of 200 entries behind
// 3ms of latency takes 3ms, not 600ms. Served in-process, under synctest.
func TestLatencyIsPerRequestNotPerEntry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := sim.NewLog(sim.LogConfig{})
		inj, err := sim.NewInjector(sim.InjectorConfig{Faults: sim.Faults{Latency: sim.Latency{Fixed: 3 * time.Millisecond}}})
		require.NoError(t, err)
		h := sim.LogHandler(l, inj)
		c, err := httpapi.NewLogClient("http://log.test", httpapi.ClientConfig{
			HTTPClient: &http.Client{Transport: httpapi.HandlerTransport(h)}})
		require.NoError(t, err)
		start := time.Now()
		results, err := c.AppendBatch(context.Background(), batchOf(200))
		require.NoError(t, err)
		assert.Len(t, results, 200)
		assert.Equal(t, 3*time.Millisecond, time.Since(start))
		assert.Equal(t, 1, inj.Stats().Requests)
		assert.Equal(t, 200, l.Stats().Stored)
	})
}

// A single Append hit by the log's fault is answered 503 with its
// Retry-After over HTTP: retryable, not processed.
func TestLogFaultOnASingleAppendOverHTTP(t *testing.T) {
	l := sim.NewLog(sim.LogConfig{})
	require.NoError(t, l.SetFaults(sim.LogFaults{ErrorRate: sim.Always, RetryAfter: 2 * time.Second}))
	c, err := httpapi.NewLogClient("http://log.test", httpapi.ClientConfig{
		HTTPClient: &http.Client{Transport: httpapi.HandlerTransport(sim.LogHandler(l, nil))}})
	require.NoError(t, err)
	err = c.Append(context.Background(), logEntry("p1"))
	assert.ErrorIs(t, err, httpapi.ErrOverloaded)
	assert.True(t, httpapi.NotProcessed(err))
	d, _ := resilience.RetryAfter(err)
	assert.Equal(t, 2*time.Second, d)
	assert.Empty(t, l.Entries())
}
