package backoff_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience/backoff"
)

func TestNewBudgetRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name  string
		cfg   backoff.BudgetConfig
		field string
		rule  string
	}{
		{"ratio above 1", backoff.BudgetConfig{Ratio: 1.2}, "Ratio", "must be in [0, 1]"},
		{"negative ratio", backoff.BudgetConfig{Ratio: -0.1}, "Ratio", "must be in [0, 1]"},
		{"NaN ratio", backoff.BudgetConfig{Ratio: math.NaN()}, "Ratio", "must be in [0, 1]"},
		{"negative floor", backoff.BudgetConfig{MinPerSecond: -1}, "MinPerSecond", "must be finite and not negative"},
		{"infinite floor", backoff.BudgetConfig{MinPerSecond: math.Inf(1)}, "MinPerSecond", "must be finite and not negative"},
		{"negative window", backoff.BudgetConfig{Window: -time.Second}, "Window", "must not be negative"},
		{"negative buckets", backoff.BudgetConfig{Buckets: -1}, "Buckets", "must not be negative"},
		{"huge buckets", backoff.BudgetConfig{Buckets: 1 << 62}, "Buckets", "must be at most 65536"},
		{"buckets too thin", backoff.BudgetConfig{Window: time.Millisecond, Buckets: 10}, "Window/Buckets", "must be at least 1ms"},
		{"default window too thin", backoff.BudgetConfig{Buckets: 20000}, "Window/Buckets", "must be at least 1ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b *backoff.Budget
			var err error
			assert.NotPanics(t, func() { b, err = backoff.NewBudget(c.cfg) })
			assert.Nil(t, b)
			requireConfigError(t, err, "", c.field, c.rule)
		})
	}
}

// The zero Budget has the defaults: a floor of 10/s over 10s is 100
// retries with no requests at all.
func TestZeroBudgetHasDefaults(t *testing.T) {
	var b backoff.Budget
	assert.Equal(t, backoff.BudgetSnapshot{Available: 100, Window: 10 * time.Second}, b.Snapshot())
	for range 5 {
		b.Request()
	}
	assert.Equal(t, int64(101), b.Snapshot().Available, "100 + 20% of 5")
	assert.True(t, b.AllowRetry())
}

func TestBudgetRatioAndWindow(t *testing.T) {
	clk := clock.NewMock()
	b, err := backoff.NewBudget(backoff.BudgetConfig{
		Ratio: 0.5, MinPerSecond: 1e-9, Window: 4 * time.Second, Buckets: 4, Clock: clk,
	})
	require.NoError(t, err)
	for range 6 {
		b.Request()
	}
	clk.Add(2 * time.Second)
	for range 4 {
		b.Request()
	}
	for i := range 5 {
		assert.True(t, b.AllowRetry(), "retry %d of 10 requests × 0.5", i+1)
	}
	assert.False(t, b.AllowRetry())
	assert.Equal(t, backoff.BudgetSnapshot{Requests: 10, Retries: 5, Refusals: 1, Window: 4 * time.Second}, b.Snapshot())

	// The first 6 requests leave the window; 4 requests allow 2 retries,
	// and the 5 granted still count.
	clk.Add(2 * time.Second)
	assert.Equal(t, backoff.BudgetSnapshot{Requests: 4, Retries: 5, Refusals: 1, Window: 4 * time.Second}, b.Snapshot())
	assert.False(t, b.AllowRetry())

	// Everything leaves; a long jump clears every bucket at once.
	clk.Add(time.Hour)
	assert.Equal(t, backoff.BudgetSnapshot{Window: 4 * time.Second}, b.Snapshot())
}

func TestBudgetClockBackwards(t *testing.T) {
	clk := clock.NewMock()
	clk.Set(time.Unix(1000, 0))
	b, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 1, MinPerSecond: 1e-9, Clock: clk})
	require.NoError(t, err)
	b.Request()
	clk.Set(time.Unix(900, 0))
	b.Request()
	assert.Equal(t, int64(2), b.Snapshot().Requests, "a clock going back keeps the window")
	assert.True(t, b.AllowRetry())
}

// budgetModel is the reference: a log of every request and retry with the
// bucket it fell in.
type budgetModel struct {
	ratio, reserve float64
	buckets        int64
	width          time.Duration
	log            []budgetEntry
}

type budgetEntry struct {
	bucket int64
	kind   int // 0 request, 1 retry, 2 refusal
}

func (m *budgetModel) counts(now time.Time) (c [3]int64) {
	cur := now.UnixNano() / int64(m.width)
	for _, e := range m.log {
		if e.bucket > cur-m.buckets {
			c[e.kind]++
		}
	}
	return c
}

func drawBudgetConfig(t *rapid.T, clk clock.Clock) (backoff.BudgetConfig, *budgetModel) {
	cfg := backoff.BudgetConfig{
		Ratio:        rapid.Float64Range(1e-9, 1).Draw(t, "ratio"),
		MinPerSecond: rapid.Float64Range(1e-9, 3).Draw(t, "minPerSecond"),
		Buckets:      rapid.IntRange(1, 10).Draw(t, "buckets"),
		Clock:        clk,
	}
	cfg.Window = time.Duration(cfg.Buckets) * time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(2*time.Second)).Draw(t, "bucket width"))
	return cfg, &budgetModel{
		ratio:   cfg.Ratio,
		reserve: cfg.MinPerSecond * cfg.Window.Seconds(),
		buckets: int64(cfg.Buckets),
		width:   cfg.Window / time.Duration(cfg.Buckets),
	}
}

// The budget follows the model step by step: every decision and snapshot
// agree with a log of all calls, and whenever a retry is granted, retries ≤
// ratio × requests + floor × window over the window ending then. (Later,
// requests may age out of a window before the retries they paid for, so no
// bound can hold over every window after the fact.)
func TestBudgetModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clk := clock.NewMock()
		clk.Set(time.Unix(rapid.Int64Range(0, 1e9).Draw(t, "start"), 0))
		cfg, m := drawBudgetConfig(t, clk)
		b, err := backoff.NewBudget(cfg)
		require.NoError(t, err)
		record := func(kind int) {
			m.log = append(m.log, budgetEntry{clk.Now().UnixNano() / int64(m.width), kind})
		}

		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) {
				c := m.counts(clk.Now())
				s := b.Snapshot()
				if s.Requests != c[0] || s.Retries != c[1] || s.Refusals != c[2] {
					t.Fatalf("snapshot %+v, model %v", s, c)
				}
			},
			"request": func(t *rapid.T) {
				n := rapid.IntRange(1, 20).Draw(t, "n")
				for range n {
					b.Request()
					record(0)
				}
			},
			"retry": func(t *rapid.T) {
				c := m.counts(clk.Now())
				want := int64(m.ratio*float64(c[0])+m.reserve)-c[1] >= 1
				got := b.AllowRetry()
				if got != want {
					t.Fatalf("AllowRetry %v, model %v (counts %v)", got, want, c)
				}
				if !got {
					record(2)
					return
				}
				record(1)
				if c := m.counts(clk.Now()); float64(c[1]) > m.ratio*float64(c[0])+m.reserve {
					t.Fatalf("%d retries over %d requests, ratio %v, reserve %v", c[1], c[0], m.ratio, m.reserve)
				}
			},
			"advance": func(t *rapid.T) {
				clk.Add(time.Duration(rapid.Int64Range(0, int64(3*m.width)).Draw(t, "d")))
			},
		})
	})
}

// Goroutines hammer one budget at one instant: the counts add up, and the
// granted retries never exceed the allowance, however they interleave.
func TestBudgetConcurrentBurst(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clk := clock.NewMock()
		cfg, m := drawBudgetConfig(t, clk)
		b, err := backoff.NewBudget(cfg)
		require.NoError(t, err)
		plans := rapid.SliceOfN(rapid.SliceOfN(rapid.Bool(), 1, 40), 2, 8).Draw(t, "plans")

		var requests, asks int64
		for _, p := range plans {
			for _, isRetry := range p {
				if isRetry {
					asks++
				} else {
					requests++
				}
			}
		}
		granted := make([]int64, len(plans))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g, p := range plans {
			wg.Go(func() {
				<-start
				for _, isRetry := range p {
					if !isRetry {
						b.Request()
					} else if b.AllowRetry() {
						granted[g]++
					}
				}
			})
		}
		close(start)
		wg.Wait()

		var sum int64
		for _, n := range granted {
			sum += n
		}
		s := b.Snapshot()
		if s.Requests != requests || s.Retries != sum || s.Retries+s.Refusals != asks {
			t.Fatalf("snapshot %+v: want %d requests, %d retries of %d asked", s, requests, sum, asks)
		}
		if float64(s.Retries) > m.ratio*float64(s.Requests)+m.reserve {
			t.Fatalf("%d retries over %d requests, ratio %v, reserve %v", s.Retries, s.Requests, m.ratio, m.reserve)
		}
	})
}
