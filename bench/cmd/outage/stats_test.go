package main

import (
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(100 - i) // 100ms down to 1ms, unsorted on purpose
	}
	tests := []struct {
		name string
		xs   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", []time.Duration{ms(7)}, 99, ms(7)},
		{"p99 of 1..100", hundred, 99, ms(99)},
		{"p50 of 1..100", hundred, 50, ms(50)},
		{"p100 is the max", hundred, 100, ms(100)},
		{"p99 of ten is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p90 of ten", []time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90, 9},
	}
	for _, tt := range tests {
		if got := percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if hundred[0] != ms(100) {
		t.Error("percentile reordered its input")
	}
}

func TestRecoveryFrom(t *testing.T) {
	s := schedule{start: ms(1000), end: ms(2000), stop: ms(3000)}
	tests := []struct {
		name  string
		marks []mark
		want  recovery
	}{
		{"never opened", nil, recovery{closed: true}},
		{"closed on recovery after half-open",
			[]mark{{ms(1050), "open"}, {ms(1550), "half_open"}, {ms(1600), "open"}, {ms(2100), "half_open"}, {ms(2102), "closed"}},
			recovery{opened: true, closed: true, delay: ms(102)}},
		{"held by health, released, closed",
			[]mark{{ms(1050), "open"}, {ms(1200), "forced_open"}, {ms(2040), "half_open"}, {ms(2043), "closed"}},
			recovery{opened: true, closed: true, delay: ms(43)}},
		{"not closed by the end",
			[]mark{{ms(1050), "open"}, {ms(2500), "half_open"}},
			recovery{opened: true}},
		{"closing exactly at recovery counts as zero",
			[]mark{{ms(1050), "open"}, {ms(2000), "closed"}},
			recovery{opened: true, closed: true, delay: 0}},
		{"a close later in the run after it was closed at recovery is ignored",
			[]mark{{ms(500), "open"}, {ms(900), "closed"}, {ms(2500), "open"}, {ms(2600), "closed"}},
			recovery{closed: true}},
	}
	for _, tt := range tests {
		if got := recoveryFrom(tt.marks, s); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestRecorderSnapshotIsInTimeOrder(t *testing.T) {
	r := &recorder{marks: []mark{{ms(30), "closed"}, {ms(10), "open"}, {ms(20), "half-open"}}}
	got := r.snapshot()
	want := []mark{{ms(10), "open"}, {ms(20), "half-open"}, {ms(30), "closed"}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	r.mark("half-open")
	if last := r.marks[len(r.marks)-1]; last.state != "half_open" {
		t.Errorf("mark: got state %q, want half_open (one spelling for every library)", last.state)
	}
}

func TestAggregate(t *testing.T) {
	s := schedule{start: ms(10), end: ms(20), stop: ms(30)}
	dep := newDependency(s, time.Time{}, 0)
	dep.calls[before].Add(100)
	dep.calls[during].Add(66)
	dep.calls[after].Add(100)
	dep.probes[during].Add(12)
	stats := []callerStats{
		{calls: 10, successes: 7, outage: []time.Duration{ms(50), ms(1)}},
		{calls: 5, successes: 5, outage: []time.Duration{ms(2)}},
	}
	marks := []mark{{ms(11), "open"}, {ms(25), "closed"}}
	c := contender{name: "x", breaker: true, health: true}
	got := aggregate(c, stats, dep, marks)
	want := result{contender: "x", breaker: true, health: true, reached: 66, probes: 12, p99: ms(50),
		outageCalls: 3, calls: 15, successes: 12, recovery: recovery{opened: true, closed: true, delay: ms(5)}}
	if got != want {
		t.Errorf("got %+v,\nwant %+v", got, want)
	}
	c.breaker = false
	if got := aggregate(c, stats, dep, marks); got.recovery != (recovery{}) {
		t.Errorf("no breaker: got recovery %+v, want none", got.recovery)
	}
}

func TestGoalMisses(t *testing.T) {
	none := result{successes: 1000}
	good := result{reached: 70, successes: 980, recovery: recovery{opened: true, closed: true, delay: ms(100)}}
	if m := issueGoal.misses(good, none); len(m) != 0 {
		t.Errorf("on the limits: got misses %q, want none", m)
	}
	tests := []struct {
		name string
		edit func(*result)
	}{
		{"71 calls", func(r *result) { r.reached = 71 }},
		{"101ms", func(r *result) { r.recovery.delay = ms(101) }},
		{"not closed", func(r *result) { r.recovery.closed = false }},
		{"979 successes", func(r *result) { r.successes = 979 }},
	}
	for _, tt := range tests {
		r := good
		tt.edit(&r)
		if m := issueGoal.misses(r, none); len(m) != 1 {
			t.Errorf("%s: got misses %q, want exactly one", tt.name, m)
		}
	}
}

func TestSummariseRanges(t *testing.T) {
	none := func(n int) result { return result{contender: "none", successes: n} }
	br := func(reached int64, d time.Duration, closed bool, n int) result {
		return result{contender: "b", breaker: true, reached: reached, successes: n, p99: ms(1),
			recovery: recovery{opened: true, closed: closed, delay: d}}
	}
	all := [][]result{
		{none(1000), br(91, ms(500), true, 900)},
		{none(1000), br(67, ms(3), true, 990)},
		{none(1000), br(70, 0, false, 950)},
	}
	got := summarise(all, 1)
	want := span{contender: "b", reached: "67–91", probes: "—", p99: "1.0ms",
		recovery: "3.0ms–500.0ms (1 phases not closed)", loss: "-10.0%–-1.0%"}
	if got != want {
		t.Errorf("got %+v,\nwant %+v", got, want)
	}
	if got := summarise(all, 0); got.loss != "—" || got.recovery != "—" {
		t.Errorf("none: got %+v, want no loss and no recovery", got)
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1500 * time.Nanosecond:        "1.5µs",
		ms(51) + 200*time.Microsecond: "51.2ms",
		ms(2500):                      "2.50s",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v): got %q, want %q", d, got, want)
		}
	}
}
