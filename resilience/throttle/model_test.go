package throttle

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
)

// script is a random source that returns the values a test put in it, so
// a model can make the same draws; a draw from an empty script is counted
// as unexpected.
type script struct {
	queue      []uint64
	unexpected int
}

func (s *script) Uint64() uint64 {
	if len(s.queue) == 0 {
		s.unexpected++
		return 0
	}
	v := s.queue[0]
	s.queue = s.queue[1:]
	return v
}

// model is the throttle as a map of bucket index to counts, summed over
// the last n indices on demand.
type model struct {
	k       float64
	min     int64
	width   int64
	n       int64
	buckets map[int64]counts
	totals  Totals
}

func (m *model) window(now time.Time) counts {
	idx := now.UnixNano() / m.width
	var sum counts
	for i := idx - m.n + 1; i <= idx; i++ {
		sum.requests += m.buckets[i].requests
		sum.accepts += m.buckets[i].accepts
	}
	return sum
}

func (m *model) probability(now time.Time) float64 {
	w := m.window(now)
	if w.requests == 0 || w.requests < m.min {
		return 0
	}
	return max(0, (float64(w.requests)-m.k*float64(w.accepts))/float64(w.requests+1))
}

func (m *model) count(now time.Time, c counts) {
	idx := now.UnixNano() / m.width
	b := m.buckets[idx]
	b.requests += c.requests
	b.accepts += c.accepts
	m.buckets[idx] = b
}

func (m *model) finish(now time.Time, o resilience.Outcome) {
	switch o {
	case resilience.Success:
		m.count(now, counts{requests: 1, accepts: 1})
		m.totals.Successes++
	case resilience.Failure:
		m.count(now, counts{requests: 1})
		m.totals.Failures++
	default:
		m.totals.Ignored++
	}
}

type harness struct {
	thr  *Throttle
	src  *script
	m    *model
	clk  *clock.Mock
	held []Permit
}

func newHarness(t *rapid.T) *harness {
	cfg := Config{
		K:           rapid.SampledFrom([]float64{0, 1, 1.5, 3}).Draw(t, "k"),
		Window:      time.Duration(rapid.IntRange(1, 10).Draw(t, "windowSec")) * time.Second,
		Buckets:     rapid.IntRange(1, 5).Draw(t, "buckets"),
		MinRequests: rapid.IntRange(0, 4).Draw(t, "minRequests"),
		Clock:       clock.NewMock(),
	}
	cfg.Clock.(*clock.Mock).Add(time.Duration(rapid.Int64Range(0, int64(time.Hour)).Draw(t, "start")))
	thr, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	src := &script{}
	thr.rnd = rand.New(src)
	k := cfg.K
	if k == 0 {
		k = DefaultK
	}
	m := &model{k: k, min: int64(cfg.MinRequests), width: int64(thr.width), n: int64(len(thr.buckets)),
		buckets: map[int64]counts{}}
	return &harness{thr: thr, src: src, m: m, clk: cfg.Clock.(*clock.Mock)}
}

// allow asks both the throttle and the model, which must agree.
func (h *harness) allow(t *rapid.T) (Permit, bool) {
	now := h.clk.Now()
	p := h.m.probability(now)
	refuse := false
	if p > 0 {
		u := rapid.Uint64().Draw(t, "u")
		h.src.queue = append(h.src.queue, u)
		refuse = rand.New(&script{queue: []uint64{u}}).Float64() < p
	}
	permit, err := h.thr.Allow()
	if h.src.unexpected > 0 || len(h.src.queue) > 0 {
		t.Fatalf("p=%v: throttle drew %d unexpected, left %d", p, h.src.unexpected, len(h.src.queue))
	}
	if got := err != nil; got != refuse {
		t.Fatalf("p=%v: refused=%v, want %v (err %v)", p, got, refuse, err)
	}
	if refuse {
		h.m.count(now, counts{requests: 1})
		h.m.totals.Throttled++
		return Permit{}, false
	}
	h.m.totals.Admitted++
	return permit, true
}

func drawOutcome(t *rapid.T) resilience.Outcome {
	return rapid.SampledFrom([]resilience.Outcome{
		resilience.Success, resilience.Failure, resilience.Ignored, resilience.Unclassified,
	}).Draw(t, "outcome")
}

func (h *harness) Advance(t *rapid.T) {
	width := int64(h.thr.width)
	d := rapid.SampledFrom([]int64{0, 1, width / 2, width, 3 * width, int64(h.thr.window) + width}).Draw(t, "d")
	h.clk.Add(time.Duration(d))
}

func (h *harness) Call(t *rapid.T) {
	permit, ok := h.allow(t)
	if !ok {
		return
	}
	o := drawOutcome(t)
	permit.Done(o)
	permit.Done(resilience.Success) // a second report is a no-op
	h.m.finish(h.clk.Now(), o)
}

func (h *harness) Hold(t *rapid.T) {
	if permit, ok := h.allow(t); ok {
		h.held = append(h.held, permit)
	}
}

func (h *harness) Finish(t *rapid.T) {
	if len(h.held) == 0 {
		t.Skip("nothing held")
	}
	i := rapid.IntRange(0, len(h.held)-1).Draw(t, "i")
	o := drawOutcome(t)
	h.held[i].Done(o)
	h.m.finish(h.clk.Now(), o)
	h.held = append(h.held[:i], h.held[i+1:]...)
}

func (h *harness) check(t *rapid.T) {
	now := h.clk.Now()
	s := h.thr.Snapshot()
	w := h.m.window(now)
	if s.Requests != w.requests || s.Accepts != w.accepts {
		t.Fatalf("window: got %d requests, %d accepts; want %d, %d", s.Requests, s.Accepts, w.requests, w.accepts)
	}
	if p := h.m.probability(now); s.RejectionProbability != p {
		t.Fatalf("probability: got %v, want %v", s.RejectionProbability, p)
	}
	if s.Totals != h.m.totals {
		t.Fatalf("totals: got %+v, want %+v", s.Totals, h.m.totals)
	}
	if inFlight := s.Admitted - s.Successes - s.Failures - s.Ignored; inFlight != uint64(len(h.held)) {
		t.Fatalf("in flight: got %d, want %d", inFlight, len(h.held))
	}
}

// TestModel drives a throttle and a map-based model of its window with the
// same calls, times and random draws: every decision and every count must
// agree.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := newHarness(t)
		t.Repeat(map[string]func(*rapid.T){
			"advance": h.Advance,
			"call":    h.Call,
			"hold":    h.Hold,
			"finish":  h.Finish,
			"":        h.check,
		})
	})
}
