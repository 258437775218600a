package dst

import (
	"encoding/json"
	"fmt"
	"time"
)

// The drill's scenario file (examples/gateway, -scenario FILE), as this
// package writes it: the part of a world the drill can play on real
// sockets and real time. Durations are Go duration strings.
type drillScenario struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Duration    string                `json:"duration"`
	Rate        int                   `json:"rate"`
	Faults      []drillFault          `json:"faults"`
	Noise       map[string]drillNoise `json:"noise"`
}

type drillFault struct {
	Service string `json:"service"`
	Kind    string `json:"kind"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Extra   string `json:"extra,omitempty"`
}

type drillNoise struct {
	ErrorBP       int    `json:"error_bp"`
	LostReplyBP   int    `json:"lost_reply_bp"`
	Latency       string `json:"latency"`
	Jitter        string `json:"jitter"`
	AppendErrorBP int    `json:"append_error_bp,omitempty"`
}

// drillMaxFaults is the drill's bound on a scenario's windows.
const drillMaxFaults = 100

// Scenario writes w as a scenario file of the drill (examples/gateway),
// which runs it on loopback sockets in real time: the duration, the
// average rate, each dependency's noise and its outage, hang and slowdown
// windows (a flap as its outages). What the drill's format cannot say is
// left out and listed in the description: a second bank, error windows, whole-batch log
// failures, lost replies that close the connection, the load's shape, the
// clients' retries, the crashes and the gateway's configuration (the
// drill uses its own). A world is the reference; the scenario is its
// closest replay on real time.
func (w World) Scenario(name string) []byte {
	s := drillScenario{Name: name, Duration: w.Duration.String(), Rate: max(1, w.averageRate()),
		Faults: []drillFault{}, Noise: map[string]drillNoise{}}
	var left []string
	for _, dep := range []string{"bank", "fx", "log"} {
		f := w.faults(dep)
		s.Noise[dep] = drillNoise{ErrorBP: f.ErrorBP, LostReplyBP: f.LostReplyBP, Latency: f.Latency.String(),
			Jitter: f.Jitter.String(), AppendErrorBP: f.AppendErrorBP}
		for _, win := range f.Windows {
			if win.Kind == Errors {
				left = append(left, fmt.Sprintf("%s errors %d bp %s-%s", dep, win.ErrorBP, win.Start, win.End))
				continue
			}
			s.Faults = append(s.Faults, drillFaults(dep, win)...)
		}
		if f.BatchErrorBP > 0 || f.CloseOnLost {
			left = append(left, dep+" batch errors / closed connections")
		}
	}
	if len(s.Faults) > drillMaxFaults {
		left = append(left, fmt.Sprintf("%d windows past the drill's %d", len(s.Faults)-drillMaxFaults, drillMaxFaults))
		s.Faults = s.Faults[:drillMaxFaults]
	}
	if len(w.Crashes) > 0 {
		left = append(left, fmt.Sprintf("%d crashes", len(w.Crashes)))
	}
	if w.Bank2 != nil {
		// The drill runs one bank; bank2's noise and windows are left out.
		left = append([]string{fmt.Sprintf("a second bank (%d windows)", len(w.Bank2.Windows))}, left...)
	}
	s.Description = fmt.Sprintf("dst world, seed %d, %s load; not in this file: configuration, retries", w.Seed, w.Load.Shape)
	for _, l := range left {
		if len(s.Description)+len(l) > 280 {
			break
		}
		s.Description += "; " + l
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil { // plain data: cannot happen
		return nil
	}
	return b
}

func drillFaults(dep string, w Window) []drillFault {
	f := drillFault{Service: dep, Kind: w.Kind, Start: w.Start.String(), End: w.End.String()}
	switch w.Kind {
	case Slowdown:
		f.Extra = w.Extra.String()
	case Flap:
		if w.Period <= 0 || (w.End-w.Start)/w.Period > 2*maxFlaps {
			return []drillFault{{Service: dep, Kind: Outage, Start: f.Start, End: f.End}}
		}
		var out []drillFault
		for t := w.Start.D(); t < w.End.D(); t += 2 * w.Period.D() {
			out = append(out, drillFault{Service: dep, Kind: Outage, Start: t.String(),
				End: min(t+w.Period.D(), w.End.D()).String()})
		}
		return out
	}
	return []drillFault{f}
}

// averageRate is the world's payments per second, rounded.
func (w World) averageRate() int {
	if w.Duration <= 0 || w.Duration.D() > maxDuration {
		return 0
	}
	n := w.Load.count(w.Duration.D())
	return int((int64(n)*int64(time.Second) + int64(w.Duration)/2) / int64(w.Duration))
}
