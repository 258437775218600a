package main

import (
	"fmt"
	"io"
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
	progress io.Writer

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
			fmt.Fprintln(s.progress, s.line(prev, cur))
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
		st := s.gw.Status()
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

// line is the progress line of one second: elapsed/total, throughput,
// answers so far, breakers and outbox.
func (s *sampler) line(prev, cur sample) string {
	var b strings.Builder
	total := s.r.scenario.Duration
	secs := (cur.t - prev.t).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(sum(cur.answered[:])-sum(prev.answered[:])) / secs
	}
	fmt.Fprintf(&b, "[%-11s %5.1fs/%.0fs] %4.0f pay/s  in flight %-4d ok %-5d declined %-4d rejected %-5d ",
		s.r.label, cur.t.Seconds(), total.Seconds(), rate, cur.inFlight,
		cur.answered[0], cur.answered[1], cur.answered[2])
	if s.gw != nil {
		fmt.Fprintf(&b, "pending %-4d |", cur.pending)
		for _, name := range services {
			fmt.Fprintf(&b, " %s=%-11s", name, cur.breakers[name])
		}
		fmt.Fprintf(&b, "| outbox %d", cur.outbox)
	} else {
		fmt.Fprintf(&b, "unknown %-4d | no breakers, no outbox", cur.answered[stateIndex(Unknown)])
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
