package sim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
)

const transferBody = `{"idempotency_key":"k1","from":"acct_alice0001","to":"acct_bob000002","amount":"10.00 USD"}`

func post(h http.Handler, ctx context.Context) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", httpapi.PathTransfers, strings.NewReader(transferBody)).WithContext(ctx)
	h.ServeHTTP(rec, req)
	return rec
}

func faulty(t *testing.T, cfg sim.InjectorConfig) (*sim.Bank, *sim.Injector, http.Handler) {
	t.Helper()
	b := newBank(t)
	inj, err := sim.NewInjector(cfg)
	require.NoError(t, err)
	h := sim.BankHandler(b, inj)
	return b, inj, h
}

func TestOutageWindowFollowsTheMockClock(t *testing.T) {
	mock := clock.NewMock()
	b, inj, h := faulty(t, sim.InjectorConfig{Clock: mock, Faults: sim.Faults{Windows: []sim.Window{
		{Kind: sim.Outage, Start: 10 * time.Second, End: 25 * time.Second},
		{Kind: sim.Outage, Start: 30 * time.Second, End: 40 * time.Second, Status: http.StatusInternalServerError},
	}}})
	steps := []struct {
		at         time.Duration
		status     int
		retryAfter string
	}{
		{0, 200, ""},
		{10 * time.Second, 503, "15"},
		{24500 * time.Millisecond, 503, "1"}, // rounded up, never an early retry
		{25 * time.Second, 200, ""},
		{35 * time.Second, 500, ""},
		{40 * time.Second, 200, ""},
	}
	for _, s := range steps {
		mock.Set(inj.Epoch().Add(s.at))
		rec := post(h, context.Background())
		assert.Equal(t, s.status, rec.Code, "at %v", s.at)
		assert.Equal(t, s.retryAfter, rec.Header().Get("Retry-After"), "at %v", s.at)
	}
	st := inj.Stats()
	assert.Equal(t, 6, st.Requests)
	assert.Equal(t, 3, st.Outages)
	assert.Equal(t, 3, b.Stats().TransferCalls, "refused requests never reach the bank")
}

func TestInjectedErrorsNeverReachTheService(t *testing.T) {
	b, inj, h := faulty(t, sim.InjectorConfig{Faults: sim.Faults{ErrorRate: sim.Always,
		ErrorStatus: http.StatusTooManyRequests, RetryAfter: 2 * time.Second}})
	for range 5 {
		rec := post(h, context.Background())
		assert.Equal(t, 429, rec.Code)
		assert.Equal(t, "2", rec.Header().Get("Retry-After"))
	}
	assert.Equal(t, 5, inj.Stats().Errors)
	assert.Equal(t, 0, b.Stats().TransferCalls)
}

func TestErrorRateIsSeededAndReplayable(t *testing.T) {
	run := func(seed uint64) []int {
		_, _, h := faulty(t, sim.InjectorConfig{Seed: seed, Faults: sim.Faults{ErrorRate: sim.Percent(30)}})
		var codes []int
		for range 200 {
			codes = append(codes, post(h, context.Background()).Code)
		}
		return codes
	}
	a, b := run(7), run(7)
	assert.Equal(t, a, b, "the same seed gives the same faults")
	errs := 0
	for _, c := range a {
		if c == 503 {
			errs++
		}
	}
	assert.Greater(t, errs, 30, "about 60 of 200 should fail")
	assert.Less(t, errs, 90)
}

func TestLostReplyLeavesTheDebitCommitted(t *testing.T) {
	for _, mode := range []struct {
		name  string
		mode  sim.LostReplyMode
		class error
	}{
		{"502", sim.Reply502, httpapi.ErrServerFailure},
		{"closed connection", sim.CloseConnection, httpapi.ErrTransport},
	} {
		t.Run(mode.name, func(t *testing.T) {
			b, inj, h := faulty(t, sim.InjectorConfig{Faults: sim.Faults{LostReplyRate: sim.Always, LostReply: mode.mode}})
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{})
			require.NoError(t, err)
			ctx := context.Background()

			_, err = c.Transfer(ctx, transfer("lost-1", "10.00 USD"))
			require.ErrorIs(t, err, mode.class)
			assert.False(t, payments.IsPermanent(err), "an unknown outcome must stay retryable")
			assert.Equal(t, 1, b.Stats().DebitsApplied, "the bank committed before the reply was lost")

			require.NoError(t, inj.Set(sim.Faults{}))
			st, err := c.Status(ctx, "lost-1")
			require.NoError(t, err)
			assert.Equal(t, payments.TransferCompleted, st.State)
			r, err := c.Transfer(ctx, transfer("lost-1", "10.00 USD"))
			require.NoError(t, err)
			assert.True(t, r.Replayed, "a retry with the same key is answered from the idempotency table")
			assert.Equal(t, 1, b.Stats().DebitsApplied)
			assert.Equal(t, 1, inj.Stats().LostReplies)
		})
	}
}

func TestLatencyUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, inj, h := faulty(t, sim.InjectorConfig{Seed: 3, Faults: sim.Faults{
			Latency: sim.Latency{Fixed: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}}})
		seen := map[time.Duration]bool{}
		for range 20 {
			start := time.Now()
			rec := post(h, context.Background())
			took := time.Since(start)
			require.Equal(t, 200, rec.Code)
			assert.GreaterOrEqual(t, took, 100*time.Millisecond)
			assert.LessOrEqual(t, took, 150*time.Millisecond)
			seen[took] = true
		}
		assert.Greater(t, len(seen), 1, "jitter varies the delay")
		assert.Equal(t, 20, inj.Stats().Delayed)
	})
}

func TestSlowdownWindowUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, h := faulty(t, sim.InjectorConfig{Faults: sim.Faults{Windows: []sim.Window{
			{Kind: sim.Slowdown, Start: 0, End: 10 * time.Second, Extra: 2 * time.Second}}}})
		start := time.Now()
		post(h, context.Background())
		assert.Equal(t, 2*time.Second, time.Since(start))
		time.Sleep(10 * time.Second) // leave the window (synctest: fake time)
		start = time.Now()
		post(h, context.Background())
		assert.Equal(t, time.Duration(0), time.Since(start))
	})
}

func TestLatencyRespectsCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, inj, h := faulty(t, sim.InjectorConfig{Faults: sim.Faults{Latency: sim.Latency{Fixed: time.Hour}}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			post(h, ctx)
		}()
		time.Sleep(time.Second) // synctest: fake time
		cancel()
		<-done
		assert.Equal(t, time.Second, time.Since(start), "the handler returned as soon as the request was cancelled")
		assert.Equal(t, 1, inj.Stats().Cancelled)
		assert.Equal(t, 0, b.Stats().TransferCalls, "a request abandoned while delayed is not processed")
	})
}

func TestSetIsValidatedAndConcurrencySafe(t *testing.T) {
	_, inj, h := faulty(t, sim.InjectorConfig{Seed: 1})
	bad := []struct {
		f     sim.Faults
		field string
		value any
	}{
		{sim.Faults{ErrorRate: sim.Percent(101)}, "Faults.ErrorRate", 10100},
		{sim.Faults{LostReplyRate: -1}, "Faults.LostReplyRate", -1},
		{sim.Faults{ErrorStatus: 200}, "Faults.ErrorStatus", 200},
		{sim.Faults{RetryAfter: -time.Second}, "Faults.RetryAfter", -time.Second},
		{sim.Faults{Latency: sim.Latency{Jitter: -1}}, "Faults.Latency.Jitter", time.Duration(-1)},
		{sim.Faults{Windows: []sim.Window{{Kind: sim.Outage, Start: 5, End: 5}}}, "Faults.Windows[0].End", time.Duration(5)},
		{sim.Faults{Windows: []sim.Window{{Start: 0, End: 5}}}, "Faults.Windows[0].Kind", sim.WindowKind(0)},
		{sim.Faults{Windows: []sim.Window{{Kind: sim.Outage, End: 5}, {Kind: sim.Outage, End: 5, Status: 302}}},
			"Faults.Windows[1].Status", 302},
	}
	for _, b := range bad {
		var ce *resilience.ConfigError
		require.ErrorAs(t, inj.Set(b.f), &ce, "%+v", b.f)
		assert.Equal(t, "sim", ce.Component)
		assert.Equal(t, b.field, ce.Field)
		assert.Equal(t, b.value, ce.Value, b.field)
	}
	assert.Equal(t, sim.Faults{}, inj.Faults(), "refused faults leave the old ones")
	_, err := sim.NewInjector(sim.InjectorConfig{Faults: bad[0].f})
	assert.EqualError(t, err, "sim: Faults.ErrorRate must be in [0, 10000] basis points, got 10100")

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				post(h, context.Background())
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 50 {
				_ = inj.Set(sim.Faults{ErrorRate: sim.Chance((i*50 + j) % 10001), LostReplyRate: sim.Percent(10)})
			}
		}()
	}
	wg.Wait()
	st := inj.Stats()
	assert.Equal(t, 200, st.Requests)
	assert.Equal(t, st.Requests, st.Errors+st.Passed)
}
