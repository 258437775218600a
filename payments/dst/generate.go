package dst

import (
	"math"
	"time"

	"pgregory.net/rapid"
)

// Size bounds the worlds a [Generator] draws: the real time a world takes
// grows with its payments and, less, with its simulated duration. It is
// plain data; zero fields mean the smallest worlds (10s, 10 payments).
type Size struct {
	MaxDuration time.Duration // of the traffic, at least 10s
	MaxPayments int           // over the whole traffic, at least 10
}

// Generator draws worlds within size: the load (steady, bursts or a ramp),
// the clients' patience, each dependency's noise (errors, lost replies,
// latency and jitter up to past its call timeout) and windows (outages,
// hangs, slowdowns in and out of the call timeout, error windows, flaps),
// crashes with their downtime, and the gateway's configuration — each
// field either its default (zero, which rapid shrinks to) or a value in
// its valid range. One world in four has a second bank, with faults and
// weights of its own. A failing world shrinks towards fewer faults, fewer
// payments, one bank and the defaults.
func Generator(size Size) *rapid.Generator[World] {
	size.MaxDuration = max(size.MaxDuration, 10*time.Second)
	size.MaxPayments = max(size.MaxPayments, 10)
	return rapid.Custom(func(t *rapid.T) World { return drawWorld(t, size) })
}

func drawWorld(t *rapid.T, size Size) World {
	w := World{Seed: rapid.Uint64().Draw(t, "seed")}
	secs := rapid.IntRange(10, int(size.MaxDuration/time.Second)).Draw(t, "duration_s")
	w.Duration = Duration(time.Duration(secs) * time.Second)
	w.Load = drawLoad(t, secs, size.MaxPayments)
	w.Client = Client{Timeout: drawDur(t, "client_timeout", 100, 30000, 13*time.Microsecond),
		Retries:   rapid.IntRange(0, 5).Draw(t, "client_retries"),
		RetryWait: Duration(time.Duration(rapid.IntRange(0, 5000).Draw(t, "client_retry_wait_ms")) * time.Millisecond)}
	banks := 1
	if rapid.IntRange(0, 3).Draw(t, "two_banks") == 3 {
		banks = 2
	}
	w.Gateway = drawConfig(t, banks)
	s := w.Gateway.settle()
	w.Bank = drawFaults(t, "bank", w.Duration.D(), s.bankTimeout)
	if banks == 2 {
		f := drawFaults(t, "bank2", w.Duration.D(), s.bankTimeout)
		w.Bank2 = &f
	}
	w.FX = drawFaults(t, "fx", w.Duration.D(), s.fxTimeout)
	w.Log = drawFaults(t, "log", w.Duration.D(), s.logTimeout)
	w.Crashes = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Crash {
		return Crash{At: Duration(time.Duration(rapid.IntRange(0, secs*1000-1).Draw(t, "at_ms")) * time.Millisecond),
			Downtime: Duration(time.Duration(rapid.IntRange(0, 5000).Draw(t, "downtime_ms")) * time.Millisecond)}
	}), 0, 3).Draw(t, "crashes")
	return w
}

// drawLoad draws a load whose average rate keeps the traffic within
// maxPayments.
func drawLoad(t *rapid.T, secs, maxPayments int) Load {
	avg := min(max(maxPayments/secs, 1), maxRate)
	l := Load{Shape: rapid.SampledFrom([]string{Steady, Bursts, Ramp}).Draw(t, "shape"),
		Cross: rapid.IntRange(0, 100).Draw(t, "cross_pct"), Broke: rapid.IntRange(0, 30).Draw(t, "broke_pct"),
		Reused: rapid.IntRange(0, 5).Draw(t, "reused_pct")}
	switch l.Shape {
	case Steady:
		l.Rate = rapid.IntRange(1, avg).Draw(t, "rate")
	case Ramp:
		l.Rate = rapid.IntRange(1, avg).Draw(t, "rate")
		l.Peak = rapid.IntRange(0, min(2*avg-l.Rate, maxRate)).Draw(t, "peak")
	case Bursts:
		every := rapid.IntRange(2000, 30000).Draw(t, "burst_every_ms")
		length := rapid.IntRange(100, every/2).Draw(t, "burst_length_ms")
		l.Every, l.Length = Duration(time.Duration(every)*time.Millisecond), Duration(time.Duration(length)*time.Millisecond)
		l.Rate = rapid.IntRange(1, max(avg/2, 1)).Draw(t, "rate")
		// The average, Rate + (Peak-Rate)·Length/Every, stays within avg.
		l.Peak = rapid.IntRange(l.Rate, min(l.Rate+(avg-l.Rate)*every/length, maxRate)).Draw(t, "peak")
	}
	// The peaks above are judged on average; a last burst or a step's
	// rounding may add a few payments: lower the peak, then the rate,
	// until the traffic fits.
	d := time.Duration(secs) * time.Second
	for l.count(d) > maxPayments && l.Peak > 0 {
		l.Peak = l.Peak * 9 / 10
	}
	for l.count(d) > maxPayments && l.Rate > 1 {
		l.Rate = l.Rate * 9 / 10
	}
	return l
}

// drawFaults draws one dependency's faults; its call timeout places the
// latencies and slowdowns both within and past it.
func drawFaults(t *rapid.T, dep string, d, timeout time.Duration) Faults {
	ms := int(timeout / time.Millisecond)
	f := Faults{ErrorBP: drawBP(t, dep+"_error_bp", 3000), LostReplyBP: drawBP(t, dep+"_lost_reply_bp", 2000),
		CloseOnLost: rapid.Bool().Draw(t, dep+"_close_on_lost")}
	if rapid.IntRange(0, 3).Draw(t, dep+"_slow") == 3 { // slow, within its timeout or not
		f.Latency = drawDur(t, dep+"_latency", ms/2, ms*6/5, 7*time.Microsecond)
		f.Jitter = drawDur(t, dep+"_jitter", 1, ms/2+1, 0)
	} else {
		f.Latency = drawDur(t, dep+"_latency", 1, 20, 7*time.Microsecond)
		f.Jitter = drawDur(t, dep+"_jitter", 1, 20, 0)
	}
	if dep == "log" {
		f.AppendErrorBP = drawBP(t, "log_append_error_bp", 5000)
		f.BatchErrorBP = drawBP(t, "log_batch_error_bp", 3000)
	}
	secs := int(d / time.Millisecond)
	f.Windows = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Window {
		start := rapid.IntRange(0, secs-100).Draw(t, "start_ms")
		w := Window{Kind: rapid.SampledFrom([]string{Outage, Hang, Slowdown, Errors, Flap}).Draw(t, "kind"),
			Start: Duration(time.Duration(start) * time.Millisecond),
			End:   Duration(time.Duration(start+rapid.IntRange(100, secs-start).Draw(t, "length_ms")) * time.Millisecond)}
		switch w.Kind {
		case Slowdown:
			w.Extra = Duration(time.Duration(drawLog(t, "extra_ms", 1, 2*ms))*time.Millisecond + 7*time.Microsecond)
		case Errors:
			w.ErrorBP = rapid.IntRange(1, maxBP).Draw(t, "error_bp")
		case Flap:
			w.Period = Duration(time.Duration(rapid.IntRange(100, 5000).Draw(t, "period_ms")) * time.Millisecond)
		}
		return w
	}), 0, 4).Draw(t, dep+"_windows")
	return f
}

// drawBP draws a rate in basis points: none, most often.
func drawBP(t *rapid.T, label string, hi int) int {
	if rapid.IntRange(0, 2).Draw(t, label+"_on") < 2 {
		return 0
	}
	return rapid.IntRange(1, hi).Draw(t, label)
}

// drawDur draws zero (a default, or no delay) half the time, or lo to hi
// milliseconds plus off, which keeps it off the millisecond grid the
// gateway's timeouts run on. The milliseconds are drawn on a log scale,
// so that a short value (a tight timeout, a quick probe) is as likely as
// a long one; they shrink towards lo.
func drawDur(t *rapid.T, label string, lo, hi int, off time.Duration) Duration {
	if !rapid.Bool().Draw(t, label+"_set") {
		return 0
	}
	return Duration(time.Duration(drawLog(t, label+"_ms", lo, hi))*time.Millisecond + off)
}

// drawLog draws an integer in [lo, hi] on a log scale.
func drawLog(t *rapid.T, label string, lo, hi int) int {
	lo, hi = max(lo, 1), max(lo, hi)
	u := float64(rapid.IntRange(0, 1000).Draw(t, label)) / 1000
	return min(hi, max(lo, int(float64(lo)*math.Pow(float64(hi)/float64(lo), u)+0.5)))
}

// drawInt draws zero (the default) or a value in [lo, hi].
func drawInt(t *rapid.T, label string, lo, hi int) int {
	if !rapid.Bool().Draw(t, label+"_set") {
		return 0
	}
	return rapid.IntRange(lo, hi).Draw(t, label)
}
