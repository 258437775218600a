package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/dashboard"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/throttle"
	"github.com/riprap-go/riprap/resilience/timeout"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func mockClock() *clock.Mock {
	clk := clock.NewMock()
	clk.Set(t0)
	return clk
}

func TestSnapshotJSONOfNothing(t *testing.T) {
	d, err := dashboard.New(dashboard.Config{Clock: mockClock()})
	require.NoError(t, err)
	got, err := json.Marshal(d.Snapshot())
	require.NoError(t, err)
	assert.JSONEq(t, `{"title":"riprap dashboard","time":"2026-03-04T05:06:07Z",
		"interval":"1s","interval_seconds":1,"history":"5m0s","history_seconds":300,
		"breakers":[],"limiters":[],"keyed":[],"bulkheads":[],"adaptive":[],"health":[],
		"budgets":[],"retries":[],"timeouts":[],"throttles":[],"clients":0,"dropped_clients":0}`, string(got))
}

func TestSnapshotJSONOfABreaker(t *testing.T) {
	clk := mockClock()
	reg := &breaker.Registry{}
	d, err := dashboard.New(dashboard.Config{Registry: reg, Clock: clk, Title: "payments"})
	require.NoError(t, err)
	bank := newBreaker(t, reg, "bank", breaker.Config{Clock: clk}, d.Listener())
	clk.Add(time.Second)
	fail(t, bank)

	var got struct {
		Breakers []struct {
			Snapshot json.RawMessage `json:"snapshot"`
			Timeline json.RawMessage `json:"timeline"`
		} `json:"breakers"`
	}
	data, err := json.Marshal(d.Snapshot())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &got))
	require.Len(t, got.Breakers, 1)
	own, err := json.Marshal(bank.Snapshot())
	require.NoError(t, err)
	assert.JSONEq(t, string(own), string(got.Breakers[0].Snapshot), "the breaker's own snapshot, unchanged")
	assert.JSONEq(t, `[{"state":"closed","at":"0001-01-01T00:00:00Z","seq":0},
		{"state":"open","at":"2026-03-04T05:06:08Z","seq":1,"reason":"1 consecutive failures"}]`,
		string(got.Breakers[0].Timeline))
}

// TestSnapshotListsEveryKind checks that each kind of component appears
// under its key with its own JSON, nil entries skipped and budgets in name
// order.
func TestSnapshotListsEveryKind(t *testing.T) {
	clk := mockClock()
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.PerSecond(10), Burst: 5, Name: "bank", Clock: clk})
	require.NoError(t, err)
	keyed, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), Name: "merchants", Clock: clk})
	require.NoError(t, err)
	bh, err := bulkhead.New(bulkhead.Config{Name: "fx", MaxConcurrent: 4})
	require.NoError(t, err)
	ad, err := bulkhead.NewAdaptive(bulkhead.AdaptiveConfig{Name: "log", Clock: clk})
	require.NoError(t, err)
	chk, err := health.New(health.Config{Interval: time.Second, Clock: clk},
		health.Target{Name: "bank", Probe: func(context.Context) error { return nil }})
	require.NoError(t, err)
	b1, err := backoff.NewBudget(backoff.BudgetConfig{Clock: clk})
	require.NoError(t, err)
	b2, err := backoff.NewBudget(backoff.BudgetConfig{Clock: clk, Window: time.Minute})
	require.NoError(t, err)
	retry, err := backoff.NewRetry(backoff.RetryConfig{Name: "bank"})
	require.NoError(t, err)
	to, err := timeout.New(timeout.Config{Name: "bank", Timeout: time.Second, Clock: clk})
	require.NoError(t, err)
	th, err := throttle.New(throttle.Config{Name: "bank", Clock: clk})
	require.NoError(t, err)

	d, err := dashboard.New(dashboard.Config{Clock: clk,
		Limiters: []*ratelimit.Limiter{nil, lim}, Keyed: []*ratelimit.Keyed{keyed},
		Bulkheads: []*bulkhead.Bulkhead{bh, nil}, Adaptive: []*bulkhead.Adaptive{ad}, Health: chk,
		Budgets: map[string]*backoff.Budget{"zeta": b2, "alpha": b1, "nil": nil},
		Retries: []*backoff.Retry{retry}, Timeouts: []*timeout.Timeout{to}, Throttles: []*throttle.Throttle{th}})
	require.NoError(t, err)
	data, err := json.Marshal(d.Snapshot())
	require.NoError(t, err)
	var got map[string][]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &mapWithoutScalars{&got}))

	for _, c := range []struct {
		key  string
		want any
	}{
		{"limiters", lim.Snapshot()}, {"keyed", keyed.Snapshot()}, {"bulkheads", bh.Snapshot()},
		{"adaptive", ad.Snapshot()}, {"retries", retry.Snapshot()}, {"timeouts", to.Snapshot()},
		{"throttles", th.Snapshot()},
		{"budgets", dashboard.BudgetStatus{Name: "alpha", Snapshot: b1.Snapshot()}},
		{"health", map[string]any{"snapshot": chk.Snapshot()[0], "timeline": []dashboard.Transition{{State: "unknown"}}}},
	} {
		want, err := json.Marshal(c.want)
		require.NoError(t, err)
		require.NotEmpty(t, got[c.key], c.key)
		assert.JSONEq(t, string(want), string(got[c.key][0]), c.key)
	}
	assert.Len(t, got["limiters"], 1, "a nil limiter is skipped")
	assert.Len(t, got["bulkheads"], 1, "a nil bulkhead is skipped")
	require.Len(t, got["budgets"], 2, "a nil budget is skipped")
	assert.Contains(t, string(got["budgets"][1]), `"name":"zeta"`, "budgets in name order")
}

// mapWithoutScalars decodes the list-valued keys of a JSON object.
type mapWithoutScalars struct{ m *map[string][]json.RawMessage }

func (w *mapWithoutScalars) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*w.m = map[string][]json.RawMessage{}
	for k, v := range all {
		var list []json.RawMessage
		if json.Unmarshal(v, &list) == nil {
			(*w.m)[k] = list
		}
	}
	return nil
}

func TestSnapshotRoute(t *testing.T) {
	clk := mockClock()
	reg := &breaker.Registry{}
	d, err := dashboard.New(dashboard.Config{Registry: reg, Clock: clk})
	require.NoError(t, err)
	newBreaker(t, reg, "bank", breaker.Config{Clock: clk}).ForceOpen()

	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/snapshot", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	w := decode(t, rec.Body.String())
	require.Len(t, w.Breakers, 1)
	assert.Equal(t, "forced_open", w.Breakers[0].Snapshot.State)
	assert.Equal(t, []string{"forced_open"}, states(w.Breakers[0].Timeline))
}

func TestConfigRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   dashboard.Config
		field string
	}{
		{"negative interval", dashboard.Config{Interval: -time.Second}, "Interval"},
		{"interval too short", dashboard.Config{Interval: time.Millisecond}, "Interval"},
		{"negative history", dashboard.Config{History: -1}, "History"},
		{"history too long", dashboard.Config{History: 25 * time.Hour}, "History"},
		{"history shorter than interval", dashboard.Config{Interval: time.Minute, History: time.Second}, "History"},
		{"negative max clients", dashboard.Config{MaxClients: -1}, "MaxClients"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := dashboard.New(c.cfg)
			assert.Nil(t, d)
			var ce *resilience.ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, "dashboard", ce.Component)
			assert.Equal(t, c.field, ce.Field)
		})
	}
}
