package ratelimit_test

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// model is the reference: a token bucket holding credit in nanoseconds of
// refill, written independently of the limiter's GCRA. Rate changes go
// through exact rationals.
type model struct {
	inf             bool
	interval, burst int64
	credit          int64 // ns of credit; negative when reserved ahead
	last            int64 // ns of the last refill
	stack           []*admission
	segment         int // bumped when Inf starts or ends: windows never span it
}

type admission struct {
	n, at     int64 // events and the time they act
	segment   int
	res       *ratelimit.Reservation // nil for AllowN
	attempted bool                   // Cancel was called
	live      bool                   // counted as admitted
}

func (m *model) tau() int64 { return m.burst * m.interval }

func (m *model) refill(now int64) {
	if now > m.last {
		m.credit = min(m.credit+now-m.last, m.tau())
		m.last = now
	}
}

func (m *model) tokens(now int64) int64 {
	if m.inf {
		return m.burst
	}
	m.refill(now)
	q := m.credit / m.interval
	if m.credit%m.interval != 0 && m.credit < 0 {
		q--
	}
	return q
}

// take admits n at now when the wait is at most maxDelay; it returns the
// delay and whether n was admitted.
func (m *model) take(now, n, maxDelay int64) (int64, bool) {
	if n <= 0 || m.inf {
		return 0, true
	}
	if n > m.burst {
		return 0, false
	}
	m.refill(now)
	delay := max(n*m.interval-m.credit, 0)
	if delay > maxDelay {
		return delay, false
	}
	m.credit -= n * m.interval
	return delay, true
}

func (m *model) setLimits(r ratelimit.Rate, burst, now int64) {
	m.stack = nil
	switch {
	case r.IsInf():
		if !m.inf {
			m.segment++
		}
		m.inf, m.burst = true, burst
		return
	case m.inf:
		m.segment++
		m.inf, m.burst, m.interval = false, burst, int64(r.Interval())
		m.credit, m.last = m.tau(), now
		return
	}
	m.refill(now)
	if m.credit < 0 {
		// Reservations wait ahead: they keep their times, and the new
		// limits start from an empty bucket when the last of them acts.
		m.interval, m.burst = int64(r.Interval()), burst
		return
	}
	// tokens' = min(credit/interval, burst'); credit' = ⌊tokens'×interval'⌋.
	iv := int64(r.Interval())
	tok := new(big.Rat).SetFrac(big.NewInt(m.credit), big.NewInt(m.interval))
	if b := new(big.Rat).SetInt64(burst); tok.Cmp(b) > 0 {
		tok = b
	}
	c := new(big.Rat).Mul(tok, new(big.Rat).SetInt64(iv))
	q := new(big.Int).Div(c.Num(), c.Denom()) // Euclidean: floor for a positive denominator
	m.credit, m.interval, m.burst = q.Int64(), iv, burst
}

func drawRate(t *rapid.T, label string) ratelimit.Rate {
	switch rapid.IntRange(0, 5).Draw(t, label+"Kind") {
	case 0:
		return ratelimit.Inf
	case 1, 2:
		return ratelimit.Every(time.Duration(rapid.IntRange(1, 1000).Draw(t, label+"Ms")) * time.Millisecond)
	}
	n := rapid.IntRange(1, 9).Draw(t, label+"N")
	return ratelimit.Per(n, time.Duration(rapid.IntRange(1, 1000).Draw(t, label+"PerMs"))*time.Millisecond)
}

// TestLimiterModel runs random sequences of advance, AllowN, ReserveN,
// Cancel (before or after the act time), SetRate and SetBurst against the
// limiter and the model: every decision, delay and token count must agree, and in every window of act
// times the events admitted must not exceed the largest burst plus the
// fastest rate × the window.
func TestLimiterModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mock := clock.NewMock()
		rate := drawRate(t, "rate")
		burst := rapid.IntRange(1, 10).Draw(t, "burst")
		l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: rate, Burst: burst, Clock: mock})
		if err != nil {
			t.Fatalf("New(%v, %d): %v", rate, burst, err)
		}
		m := &model{burst: int64(burst), inf: rate.IsInf(), interval: int64(rate.Interval())}
		m.credit = m.tau()
		maxBurst, minInterval := m.burst, m.interval
		var now int64
		var all []*admission

		note := func(a *admission) {
			all = append(all, a)
			if !m.inf {
				m.stack = append(m.stack, a)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) {
				if got, want := l.Snapshot().Tokens, m.tokens(now); int64(got) != want {
					t.Fatalf("at %v: Tokens got %d, want %d", time.Duration(now), got, want)
				}
				checkWindows(t, all, maxBurst, minInterval)
			},
			"advance": func(t *rapid.T) {
				d := rapid.Int64Range(0, 2*max(m.interval, int64(time.Millisecond))).Draw(t, "d")
				mock.Add(time.Duration(d))
				now += d
			},
			"allow": func(t *rapid.T) {
				n := rapid.IntRange(-1, 12).Draw(t, "n")
				got := l.AllowN(n)
				_, want := m.take(now, int64(n), 0)
				if got != want {
					t.Fatalf("at %v: AllowN(%d) got %v, want %v", time.Duration(now), n, got, want)
				}
				if got && n > 0 {
					note(&admission{n: int64(n), at: now, segment: m.segment, live: !m.inf})
				}
			},
			"reserve": func(t *rapid.T) {
				n := rapid.IntRange(-1, 12).Draw(t, "n")
				r := l.ReserveN(n)
				delay, ok := m.take(now, int64(n), 1<<60)
				if r.OK() != ok || (ok && r.Delay() != time.Duration(delay)) {
					t.Fatalf("at %v: ReserveN(%d) got (%v, %v), want (%v, %v)",
						time.Duration(now), n, r.OK(), r.Delay(), ok, time.Duration(delay))
				}
				if ok && n > 0 {
					note(&admission{n: int64(n), at: now + delay, segment: m.segment, res: r, live: !m.inf})
				}
			},
			"cancel": func(t *rapid.T) {
				var rs []*admission
				for _, a := range all {
					if a.res != nil {
						rs = append(rs, a)
					}
				}
				if len(rs) == 0 {
					t.Skip("no reservation")
				}
				a := rapid.SampledFrom(rs).Draw(t, "reservation")
				got := a.res.Cancel()
				late := now > a.at // its holder may have acted
				top := !a.attempted && !late && len(m.stack) > 0 && m.stack[len(m.stack)-1] == a
				a.attempted = true
				switch {
				case got && late:
					t.Fatalf("at %v: Cancel returned tokens after their act time %v", time.Duration(now), time.Duration(a.at))
				case got && !top:
					t.Fatalf("at %v: Cancel returned tokens another admission depends on", time.Duration(now))
				case top:
					m.stack = m.stack[:len(m.stack)-1]
					if !got {
						// Allowed only when returning them would change nothing.
						if m.tokens(now) != m.burst {
							t.Fatalf("at %v: Cancel of the latest admission refused with %d of %d tokens",
								time.Duration(now), m.tokens(now), m.burst)
						}
						break
					}
					m.refill(now)
					m.credit = min(m.credit+a.n*m.interval, m.tau())
					a.live = false
				}
			},
			"setRate": func(t *rapid.T) {
				r := drawRate(t, "newRate")
				if err := l.SetRate(r); err != nil {
					t.Fatalf("SetRate(%v): %v", r, err)
				}
				m.setLimits(r, m.burst, now)
				if !r.IsInf() {
					minInterval = min(minInterval, int64(r.Interval()))
					if minInterval == 0 {
						minInterval = int64(r.Interval())
					}
				}
			},
			"setBurst": func(t *rapid.T) {
				b := rapid.IntRange(1, 10).Draw(t, "newBurst")
				if err := l.SetBurst(b); err != nil {
					t.Fatalf("SetBurst(%d): %v", b, err)
				}
				r := ratelimit.Inf
				if !m.inf {
					r = ratelimit.Every(time.Duration(m.interval))
				}
				m.setLimits(r, int64(b), now)
				maxBurst = max(maxBurst, int64(b))
			},
		})
	})
}

// checkWindows verifies, for every window [a, b] between two act times in
// one segment, that the events in it do not exceed burst + (b−a)/interval.
func checkWindows(t *rapid.T, all []*admission, burst, interval int64) {
	if interval == 0 {
		return // only Inf so far
	}
	var live []*admission
	for _, a := range all {
		if a.live {
			live = append(live, a)
		}
	}
	slices.SortFunc(live, func(x, y *admission) int { return int(x.at - y.at) })
	for i, a := range live {
		var sum int64
		for _, b := range live[i:] {
			if b.segment != a.segment {
				continue
			}
			sum += b.n
			if bound := burst + (b.at-a.at)/interval; sum > bound {
				t.Fatalf("%d events act in [%v, %v], more than burst %d + window/interval = %d",
					sum, time.Duration(a.at), time.Duration(b.at), burst, bound)
			}
		}
	}
}
