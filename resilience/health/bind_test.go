package health_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestBoundBreakerIsHeldOpenAndReleased(t *testing.T) {
	for _, closeNow := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			var s script
			c, err := health.New(health.Config{Interval: 10 * time.Second, UnhealthyInterval: 2 * time.Second,
				FailuresToUnhealthy: 2, SuccessesToHealthy: 1}, health.Target{Name: "bank", Probe: s.probe})
			require.NoError(t, err)
			b, _ := breaker.New(breaker.Config{Name: "bank"})
			require.NoError(t, health.BindBreaker(c, "bank", b, health.BindOptions{CloseOnHealthy: closeNow}))
			require.NoError(t, c.Start())

			time.Sleep(time.Second) // t=1s: first probe passed at 0 (synctest: fake time)
			assert.Equal(t, breaker.Closed, b.State())
			s.set(true)
			time.Sleep(20 * time.Second) // failures at 10s and 20s: unhealthy at 20s (synctest: fake time)
			assert.Equal(t, breaker.ForcedOpen, b.State())
			_, err = b.Allow()
			assert.ErrorIs(t, err, breaker.ErrOpen)
			after, _ := resilience.RetryAfter(err)
			assert.Equal(t, time.Second, after, "t=21s, next probe at 22s")

			time.Sleep(2 * time.Second) // t=23s: failed again at 22s, next at 24s (synctest: fake time)
			_, err = b.Allow()
			after, _ = resilience.RetryAfter(err)
			assert.Equal(t, time.Second, after, "refreshed after every probe")

			s.set(false)
			time.Sleep(2 * time.Second) // t=25s: passed at 24s (synctest: fake time)
			want := breaker.HalfOpen
			if closeNow {
				want = breaker.Closed
			}
			assert.Equal(t, want, b.State())
			c.Stop()
		})
	}
}

func TestHealthyTargetEndsAnOpenWaitEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := health.New(health.Config{Interval: time.Second},
			health.Target{Name: "fx", Probe: func(context.Context) error { return nil }})
		b, _ := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenWait: time.Hour})
		p, _ := b.Allow()
		p.Done(resilience.Failure)
		require.Equal(t, breaker.Open, b.State())
		require.NoError(t, health.BindBreaker(c, "fx", b, health.BindOptions{}))
		st, _ := c.Probe(context.Background(), "fx") // unknown → healthy
		require.Equal(t, health.Healthy, st)
		assert.Equal(t, breaker.HalfOpen, b.State(), "the dependency answered: try it now, not in an hour")
	})
}

func TestBindingRespectsManualStatesAndCurrentStatus(t *testing.T) {
	down := func(context.Context) error { return errDown }
	c, _ := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1}, health.Target{Name: "log", Probe: down})
	_, _ = c.Probe(context.Background(), "log")
	require.Equal(t, health.Unhealthy, c.Status("log"))

	b, _ := breaker.New(breaker.Config{})
	require.NoError(t, health.BindBreaker(c, "log", b, health.BindOptions{}))
	assert.Equal(t, breaker.ForcedOpen, b.State(), "already unhealthy: held at once")

	manual, _ := breaker.New(breaker.Config{})
	manual.ForceClosed()
	require.NoError(t, health.BindBreaker(c, "log", manual, health.BindOptions{}))
	_, _ = c.Probe(context.Background(), "log")
	assert.Equal(t, breaker.Disabled, manual.State(), "a person's choice wins")

	assert.ErrorIs(t, health.BindBreaker(c, "nope", b, health.BindOptions{}), health.ErrUnknownTarget)
	assert.Error(t, health.BindBreaker(nil, "log", b, health.BindOptions{}))
	assert.Error(t, health.BindBreaker(c, "log", nil, health.BindOptions{}))
}

// For any sequence of probe results the bound breaker is held open exactly
// while the target is unhealthy, and released to half-open when it recovers.
func TestBoundBreakerFollowsTheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.IntRange(1, 4).Draw(t, "FailuresToUnhealthy")
		s := rapid.IntRange(1, 4).Draw(t, "SuccessesToHealthy")
		var next error
		c, err := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: f, SuccessesToHealthy: s},
			health.Target{Name: "x", Probe: func(context.Context) error { return next }})
		require.NoError(t, err)
		b, _ := breaker.New(breaker.Config{})
		require.NoError(t, health.BindBreaker(c, "x", b, health.BindOptions{}))
		want := breaker.Closed
		t.Repeat(map[string]func(*rapid.T){
			"probe": func(t *rapid.T) {
				next = nil
				if rapid.Bool().Draw(t, "fail") {
					next = errDown
				}
				before := c.Status("x")
				after, _ := c.Probe(context.Background(), "x")
				switch {
				case after == health.Unhealthy:
					want = breaker.ForcedOpen
				case before == health.Unhealthy && after == health.Healthy:
					want = breaker.HalfOpen
				}
			},
			"call": func(t *rapid.T) {
				// Real traffic in half-open: one success closes it (SuccessesToClose 1).
				p, err := b.Allow()
				if err == nil {
					p.Done(resilience.Success)
					if want == breaker.HalfOpen {
						want = breaker.Closed
					}
				}
			},
			"": func(t *rapid.T) {
				require.Equal(t, want, b.State())
			},
		})
	})
}

func TestHandlerReadiness(t *testing.T) {
	var s script
	s.set(true)
	c, _ := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
		health.Target{Name: "bank", Probe: s.probe, Critical: true},
		health.Target{Name: "log", Probe: func(context.Context) error { return errDown }})
	var reg breaker.Registry
	_, err := reg.GetOrCreate("bank", breaker.Config{})
	require.NoError(t, err)
	srv := httptest.NewServer(health.Handler(c, &reg))
	defer srv.Close()

	get := func() (int, health.Report) {
		t.Helper()
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var rep health.Report
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
		return resp.StatusCode, rep
	}
	code, rep := get()
	assert.Equal(t, http.StatusServiceUnavailable, code, "a critical target of unknown health is not ready")
	assert.False(t, rep.Ready)

	_, _ = c.Probe(context.Background(), "log") // non-critical: does not matter
	s.set(false)
	_, _ = c.Probe(context.Background(), "bank")
	code, rep = get()
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, rep.Ready)
	require.Len(t, rep.Targets, 2)
	assert.Equal(t, health.Healthy, rep.Targets[0].Status)
	assert.Equal(t, health.Unhealthy, rep.Targets[1].Status)
	require.Len(t, rep.Breakers, 1)
	assert.Equal(t, "bank", rep.Breakers[0].Name)

	resp, err := http.Post(srv.URL, "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Head(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	rec := httptest.NewRecorder()
	health.Handler(c, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.JSONEq(t, `[]`, mustField(t, rec.Body.Bytes(), "breakers"))
}

func mustField(t *testing.T, body []byte, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	return string(m[key])
}

func TestStatusTextRoundTrip(t *testing.T) {
	for _, st := range []health.Status{health.Unknown, health.Healthy, health.Unhealthy} {
		b, err := st.MarshalText()
		require.NoError(t, err)
		var got health.Status
		require.NoError(t, got.UnmarshalText(b))
		assert.Equal(t, st, got)
	}
	var st health.Status
	assert.EqualError(t, st.UnmarshalText([]byte("sick")), `health: unknown status "sick"`)
	var bs breaker.State
	require.NoError(t, bs.UnmarshalText([]byte("half_open")))
	assert.Equal(t, breaker.HalfOpen, bs)
	assert.EqualError(t, bs.UnmarshalText([]byte("ajar")), `breaker: unknown state "ajar"`)
}

// Regression: a probe refused by a policy it goes through (a rejection)
// used to be ignored, and the loop probed again at once, forever.
func TestRejectedProbeIsAFailureAndKeepsTheSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		probes := 0
		c, _ := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 2},
			health.Target{Name: "bank", Probe: func(context.Context) error {
				probes++
				return resilience.Reject("ratelimit", "bank", nil, time.Second)
			}})
		require.NoError(t, c.Start())
		time.Sleep(10*time.Second + time.Millisecond) // synctest: fake time
		c.Stop()
		assert.Equal(t, 11, probes, "one probe per interval, at 0s…10s")
		assert.Equal(t, health.Unhealthy, c.Status("bank"))
	})
}

// Regression: a breaker held open by a checker stayed open for good after
// the checker stopped, since only a probe could release it.
func TestStopReleasesHeldBreakers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := health.New(health.Config{Interval: time.Second, FailuresToUnhealthy: 1},
			health.Target{Name: "log", Probe: func(context.Context) error { return errDown }})
		b, _ := breaker.New(breaker.Config{})
		manual, _ := breaker.New(breaker.Config{})
		require.NoError(t, health.BindBreaker(c, "log", b, health.BindOptions{}))
		require.NoError(t, health.BindBreaker(c, "log", manual, health.BindOptions{}))
		manual.ForceOpen()
		require.NoError(t, c.Start())
		time.Sleep(time.Millisecond) // synctest: fake time
		require.Equal(t, breaker.ForcedOpen, b.State())
		c.Stop()
		assert.Equal(t, breaker.HalfOpen, b.State())
		assert.Equal(t, breaker.ForcedOpen, manual.State(), "a person's force stays")
	})
}
