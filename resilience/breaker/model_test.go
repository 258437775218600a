package breaker

import (
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// model is the breaker's specification written as plainly as possible: a
// list of every call of the current window instead of buckets, totals as
// plain integers, no generations shared with the implementation.
type model struct {
	s     settings
	state State
	gen   uint64
	now   int64
	since int64
	until int64
	wait  time.Duration
	// holdUntil is when a HeldOpen breaker expects its release.
	holdUntil int64

	succ, fail, ign, rej, slow uint64

	calls   []modelCall // counting states: every call of the phase
	consec  int64
	inflght int
	probeOK int
	reopens int
	last    time.Duration

	events []string // "from->to" for every transition a listener must see
}

type modelCall struct {
	seq      int
	at       int64
	fail     bool
	slowCall bool
}

type modelPermit struct {
	gen   uint64
	start int64
	done  bool
	// probeDone is shared by a probe's copies: the first report counts.
	probeDone *bool
}

func newModel(s settings) *model { return &model{s: s} }

func (m *model) enter(st State, emit bool) {
	if emit || st != m.state {
		m.events = append(m.events, m.state.String()+"->"+st.String())
	}
	m.state, m.gen, m.since = st, m.gen+1, m.now
	m.calls, m.consec, m.inflght, m.probeOK = nil, 0, 0, 0
	m.until, m.wait = 0, 0
	if st == HalfOpen {
		m.until = m.now + m.s.maxHalfOpen
	}
	if st == Closed || st == Disabled || st == MetricsOnly {
		m.reopens, m.last = 0, 0
	}
}

func (m *model) trip(reopen bool, retryAfter time.Duration) {
	if m.state == MetricsOnly {
		m.enter(MetricsOnly, true)
		return
	}
	k, wait := 0, m.s.openWait
	if reopen {
		k = m.reopens + 1
		if m.s.strategy != nil {
			if d := m.s.strategy.Delay(k, m.last); d > 0 {
				wait = d
			}
		}
	}
	if m.s.useRetryAfter && retryAfter > wait {
		wait = retryAfter
	}
	if wait > m.s.maxOpenWait {
		wait = m.s.maxOpenWait
	}
	m.reopens, m.last = k, wait
	m.enter(Open, false)
	m.wait, m.until = wait, m.now+int64(wait)
}

func (m *model) advance() {
	for {
		switch {
		case m.state == Open && m.now >= m.until:
			m.enter(HalfOpen, false)
		case m.state == HalfOpen && m.inflght > 0 && m.now >= m.until:
			m.trip(true, 0)
		default:
			return
		}
	}
}

// allow returns the permit, or the sentinel of the refusal.
func (m *model) allow() (modelPermit, error) {
	if m.state == Open || m.state == HalfOpen {
		m.advance()
	}
	switch m.state {
	case Open, ForcedOpen, HeldOpen:
		m.rej++
		return modelPermit{}, ErrOpen
	case HalfOpen:
		if m.inflght >= int(m.s.maxProbes) {
			m.rej++
			return modelPermit{}, ErrHalfOpenFull
		}
		m.inflght++
		m.until = m.now + m.s.maxHalfOpen // gives up if a probe is still out then
		return modelPermit{gen: m.gen, start: m.now, probeDone: new(bool)}, nil
	}
	return modelPermit{gen: m.gen, start: m.now}, nil
}

// hold is HoldOpen: a person's state is left alone, a hold refreshed.
func (m *model) hold(retryAfter time.Duration) bool {
	m.advance()
	switch m.state {
	case ForcedOpen, Disabled, MetricsOnly:
		return false
	case HeldOpen:
	default:
		m.enter(HeldOpen, false)
	}
	m.holdUntil = m.now + int64(retryAfter)
	return true
}

// release is Release: it ends a hold or an open wait, nothing else.
func (m *model) release(closeNow bool) bool {
	m.advance()
	if m.state != HeldOpen && m.state != Open {
		return false
	}
	if closeNow {
		m.enter(Closed, false)
	} else {
		m.enter(HalfOpen, false)
	}
	return true
}

func (m *model) done(p *modelPermit, o resilience.Outcome, retryAfter time.Duration) {
	if p.done || (p.probeDone != nil && *p.probeDone) {
		return
	}
	p.done = true
	if p.probeDone != nil {
		*p.probeDone = true
	}
	counted := o == resilience.Success || o == resilience.Failure
	slow := m.s.slowDur > 0 && counted && m.now-p.start >= m.s.slowDur
	if slow {
		m.slow++
	}
	switch o {
	case resilience.Success:
		m.succ++
	case resilience.Failure:
		m.fail++
	default:
		m.ign++
	}
	if p.probeDone != nil {
		m.advance()
		if m.state == HalfOpen && m.gen == p.gen {
			m.inflght--
			m.judgeProbe(o, slow, retryAfter)
		}
		return
	}
	if !counted || p.gen != m.gen || !m.state.counts() {
		return
	}
	failed := o == resilience.Failure
	m.calls = append(m.calls, modelCall{seq: len(m.calls), at: m.now, fail: failed, slowCall: slow})
	if !failed {
		m.consec = 0
		if !slow {
			return
		}
	} else {
		m.consec++
	}
	if m.shouldTrip() {
		m.trip(false, retryAfter)
	}
}

func (m *model) judgeProbe(o resilience.Outcome, slow bool, retryAfter time.Duration) {
	switch {
	case o == resilience.Failure || (o == resilience.Success && slow):
		m.trip(true, retryAfter)
	case o == resilience.Success:
		m.probeOK++
		if m.probeOK >= int(m.s.successesToClose) {
			m.enter(Closed, false)
		}
	}
}

func (m *model) shouldTrip() bool {
	if m.s.consecutive > 0 && m.consec >= m.s.consecutive {
		return true
	}
	st := m.window()
	if st.calls == 0 || st.calls < m.s.minCalls {
		return false
	}
	if m.s.failureRate > 0 && float64(st.failures)/float64(st.calls) >= m.s.failureRate {
		return true
	}
	return m.s.slowRate > 0 && float64(st.slow)/float64(st.calls) >= m.s.slowRate
}

// window selects the calls of the window from the full list.
func (m *model) window() windowStats {
	var st windowStats
	var in func(c modelCall) bool
	if m.s.countSize > 0 {
		n := len(m.calls)
		if n == 0 {
			return st
		}
		per := int(m.s.perBucket)
		lo := max(0, (n-1)/per-m.s.buckets+1)
		in = func(c modelCall) bool { return c.seq/per >= lo }
	} else {
		w := m.s.bucketWidth
		cur := modelFloorDiv(m.now, w)
		in = func(c modelCall) bool { return cur-modelFloorDiv(c.at, w) < int64(m.s.buckets) }
	}
	for _, c := range m.calls {
		if in(c) {
			st.calls++
			if c.fail {
				st.failures++
			}
			if c.slowCall {
				st.slow++
			}
		}
	}
	return st
}

func modelFloorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// snapshot is what the breaker's Snapshot must equal, without lazy
// transitions applied.
func (m *model) snapshot() Snapshot {
	s := Snapshot{
		State: m.state, Generation: m.gen,
		Successes: m.succ, Failures: m.fail, Ignored: m.ign, Rejected: m.rej, Slow: m.slow,
		OpenWait: m.last, Reopens: m.reopens,
	}
	switch m.state {
	case Closed, MetricsOnly:
		st := m.window()
		s.WindowCalls, s.ConsecutiveFailures = st.calls, m.consec
		if st.calls > 0 {
			s.FailureRate = float64(st.failures) / float64(st.calls)
			s.SlowCallRate = float64(st.slow) / float64(st.calls)
		}
	case Open:
		s.UntilHalfOpen = max(0, time.Duration(m.until-m.now))
	case HeldOpen:
		s.HoldRemaining = max(0, time.Duration(m.holdUntil-m.now))
	case HalfOpen:
		s.ProbesInFlight, s.ProbeSuccesses = m.inflght, m.probeOK
	}
	return s
}

// retryAfter is what a rejection says now.
func (m *model) retryAfter() time.Duration {
	switch m.state {
	case Open:
		return max(0, time.Duration(m.until-m.now))
	case HeldOpen:
		return max(0, time.Duration(m.holdUntil-m.now))
	}
	return 0
}
