package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// sampler records the timeline of a run and prints a progress line every
// second.
type sampler struct {
	r        *runResult
	gw       *gateway.Gateway // nil in the unprotected run
	epoch    time.Time
	every    time.Duration
	progress *printer // nil: no progress lines

	live liveCounts // written by the workers

	done chan struct{}
	wg   sync.WaitGroup
}

func (s *sampler) start() {
	s.done = make(chan struct{})
	s.wg.Add(1)
	go s.loop()
}

// stop takes a last sample and waits for the loop to end.
func (s *sampler) stop() {
	close(s.done)
	s.wg.Wait()
}

func (s *sampler) loop() {
	defer s.wg.Done()
	t := time.NewTicker(s.every)
	defer t.Stop()
	perLine := max(int(time.Second/s.every), 1)
	for n := 1; ; n++ {
		select {
		case <-s.done:
			s.take()
			return
		case <-t.C:
		}
		cur := s.take()
		if n%perLine == 0 && s.progress != nil {
			var prev sample
			if i := len(s.r.samples) - 1 - perLine; i >= 0 {
				prev = s.r.samples[i]
			}
			l := s.line(prev, cur)
			s.progress.line(l.text(), l)
		}
	}
}

// take appends one sample to the timeline; only the loop writes samples.
func (s *sampler) take() sample {
	smp := sample{t: time.Since(s.epoch)}
	for i := range s.live.answered {
		smp.answered[i] = int(s.live.answered[i].Load())
	}
	smp.inFlight = int(s.live.inFlight.Load())
	if s.gw != nil {
		st := s.gw.Status(context.Background())
		smp.outbox, smp.pending = st.LogQueued, st.Pending
		smp.breakers = make(map[string]string, len(st.Breakers))
		for _, b := range st.Breakers {
			smp.breakers[b.Name] = b.State.String()
		}
		s.r.outboxMax = max(s.r.outboxMax, smp.outbox)
	}
	s.r.samples = append(s.r.samples, smp)
	return smp
}

// progressLine is what a second of a run looked like: throughput, answers
// so far, and, with riprap, breakers, pending payments and the outbox.
type progressLine struct {
	Type      string            `json:"type"` // "progress"
	Run       string            `json:"run"`
	Phase     string            `json:"phase"` // "traffic", then "draining" past the scenario's end
	Seconds   float64           `json:"t_seconds"`
	Total     float64           `json:"duration_seconds"`
	PerSecond float64           `json:"pay_per_second"`
	InFlight  int               `json:"in_flight"`
	Succeeded int               `json:"succeeded"`
	Declined  int               `json:"declined"`
	Rejected  int               `json:"rejected"`
	Pending   *int              `json:"pending,omitempty"` // with riprap
	Unknown   *int              `json:"unknown,omitempty"` // without
	Breakers  map[string]string `json:"breakers,omitempty"`
	Outbox    *int              `json:"outbox,omitempty"`
}

// line is the progress line of the second that ended at cur.
func (s *sampler) line(prev, cur sample) progressLine {
	l := progressLine{Type: "progress", Run: s.r.label, Phase: "traffic", Seconds: cur.t.Seconds(),
		Total: s.r.scenario.Duration.Seconds(), InFlight: cur.inFlight,
		Succeeded: cur.answered[0], Declined: cur.answered[1], Rejected: cur.answered[2]}
	if cur.t >= s.r.scenario.Duration {
		l.Phase = "draining"
	}
	if secs := (cur.t - prev.t).Seconds(); secs > 0 {
		l.PerSecond = float64(sum(cur.answered[:])-sum(prev.answered[:])) / secs
	}
	if s.gw != nil {
		l.Pending, l.Outbox, l.Breakers = &cur.pending, &cur.outbox, cur.breakers
	} else {
		unknown := cur.answered[stateIndex(Unknown)]
		l.Unknown = &unknown
	}
	return l
}

// text reads "[protected     3.0s/12s] …", and "[protected   draining +2.0s]
// …" once the scenario's time is up and the run waits for its last answers
// and its drain.
func (l progressLine) text() string {
	var b strings.Builder
	clock := fmt.Sprintf("%5.1fs/%.0fs", l.Seconds, l.Total)
	if l.Phase == "draining" {
		clock = fmt.Sprintf("draining +%.1fs", l.Seconds-l.Total)
	}
	fmt.Fprintf(&b, "[%-11s %s] %4.0f pay/s  in flight %-4d ok %-5d declined %-4d rejected %-5d ",
		l.Run, clock, l.PerSecond, l.InFlight, l.Succeeded, l.Declined, l.Rejected)
	if l.Pending != nil {
		fmt.Fprintf(&b, "pending %-4d |", *l.Pending)
		for _, name := range progressBreakers(l.Breakers) {
			fmt.Fprintf(&b, " %s=%-11s", name, l.Breakers[name])
		}
		fmt.Fprintf(&b, "| outbox %d", *l.Outbox)
	} else if l.Unknown != nil {
		fmt.Fprintf(&b, "unknown %-4d | no breakers, no outbox", *l.Unknown)
	}
	return strings.TrimRight(b.String(), " ")
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// progressBreakers lists the breakers a progress line shows: each
// dependency's (bank2 too, with two banks), not the status lookups'.
func progressBreakers(states map[string]string) []string {
	var out []string
	for _, name := range []string{"bank", secondBank, "fx", "log"} {
		if _, ok := states[name]; ok || name != secondBank {
			out = append(out, name)
		}
	}
	return out
}
