package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// The bounds of a scenario. A drill runs in real time and holds every
// payment of its workload in memory, so a scenario is refused when it
// would take more than an hour, hold more than a million payments, or
// schedule something no run could show; each bound names its field.
const (
	minDuration = time.Second // health checks probe every 500ms: a shorter run shows nothing
	maxDuration = time.Hour
	maxRate     = 10000   // payments per second
	maxPayments = 1000000 // rate × duration
	maxFaults   = 100
	minWindow   = time.Millisecond
	maxExtra    = 10 * time.Minute // a slowdown's extra latency; a hang is the kind for longer
	maxLatency  = time.Minute      // background latency and jitter
	maxBP       = 10000            // basis points: 100%
	maxName     = 64               // bytes
	maxDesc     = 300              // bytes
	maxFileSize = 1 << 20          // a scenario file, in bytes
)

// fieldError is a problem with one value; path ("faults[1].start") names
// the field, and lets locate find it in a file.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func bad(path, format string, args ...any) error {
	return &fieldError{path, fmt.Errorf(format, args...)}
}

// validate checks every field of the scenario against its bounds; the
// error names the first field out of them.
func (s Scenario) validate() error {
	if err := checkLabel("name", s.Name, maxName); err != nil {
		return err
	}
	if err := checkLabel("description", s.Description, maxDesc); err != nil {
		return err
	}
	if s.Duration < minDuration || s.Duration > maxDuration {
		return bad("duration", "must be in [%s, %s], got %s", minDuration, maxDuration, s.Duration)
	}
	if s.Rate < 1 || s.Rate > maxRate {
		return bad("rate", "must be in [1, %d] payments per second, got %d", maxRate, s.Rate)
	}
	if n := s.payments(); n > maxPayments {
		return bad("rate", "times duration must be at most %d payments, got %d/s for %s (%d payments)",
			maxPayments, s.Rate, s.Duration, n)
	}
	if s.Banks < 0 || s.Banks > maxBanks {
		return bad("banks", "must be in [0, %d], got %d", maxBanks, s.Banks)
	}
	if len(s.Faults) > maxFaults {
		return bad("faults", "must hold at most %d windows, got %d", maxFaults, len(s.Faults))
	}
	for i, f := range s.Faults {
		if err := f.validate(fmt.Sprintf("faults[%d]", i), s); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Noise)) {
		if err := s.Noise[name].validate("noise."+name, s); err != nil {
			return err
		}
	}
	return nil
}

// checkLabel refuses text too long for a report line, or holding what a
// terminal would interpret (control characters, invalid UTF-8).
func checkLabel(path, v string, limit int) error {
	if len(v) > limit {
		return bad(path, "must be at most %d bytes, got %d", limit, len(v))
	}
	if !utf8.ValidString(v) {
		return bad(path, "must be valid UTF-8")
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return bad(path, "must hold printable characters only, got %q", r)
		}
	}
	return nil
}

func (f Fault) validate(path string, sc Scenario) error {
	total := sc.Duration
	if !slices.Contains(sc.services(), f.Service) {
		return bad(path, "service must be one of %s, got %q", sc.joinServices(), f.Service)
	}
	switch f.Kind {
	case KindOutage, KindHang:
		if f.Extra != 0 {
			return bad(path+".extra", "applies to a slowdown only, got %s for a %s", f.Extra, f.Kind)
		}
	case KindSlowdown:
		if f.Extra < minWindow || f.Extra > maxExtra {
			return bad(path+".extra", "must be in [%s, %s] for a slowdown, got %s", minWindow, maxExtra, f.Extra)
		}
	default:
		return bad(path, "kind must be %s, %s or %s, got %q", KindOutage, KindHang, KindSlowdown, f.Kind)
	}
	if f.Start < 0 || f.End <= f.Start || f.End > total {
		return bad(path, "want 0 <= start < end <= duration (%s), got start %s, end %s", total, f.Start, f.End)
	}
	if f.End-f.Start < minWindow {
		return bad(path, "must last at least %s, got %s", minWindow, f.End-f.Start)
	}
	return nil
}

func (n Noise) validate(path string, sc Scenario) error {
	service := path[len("noise."):]
	if !slices.Contains(sc.services(), service) {
		return bad(path, "service must be one of %s, got %q", sc.joinServices(), service)
	}
	for _, c := range []struct {
		field string
		v     int
	}{{"error_bp", n.ErrorBP}, {"lost_reply_bp", n.LostReplyBP}, {"append_error_bp", n.AppendErrorBP}} {
		if c.v < 0 || c.v > maxBP {
			return bad(path+"."+c.field, "must be in [0, %d] basis points, got %d", maxBP, c.v)
		}
	}
	if n.AppendErrorBP != 0 && service != "log" {
		return bad(path+".append_error_bp", "applies to the log only")
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"latency", n.Latency}, {"jitter", n.Jitter}} {
		if d.v < 0 || d.v > maxLatency {
			return bad(path+"."+d.field, "must be in [0s, %s], got %s", maxLatency, d.v)
		}
	}
	return nil
}

// checkDuration bounds the -duration flag like a scenario's duration; 0
// keeps the scenario's own.
func checkDuration(d time.Duration) error {
	if d != 0 && (d < minDuration || d > maxDuration) {
		return fmt.Errorf("-duration must be 0 (the scenario's) or in [%s, %s], got %s", minDuration, maxDuration, d)
	}
	return nil
}

// errTooLarge refuses a scenario file past maxFileSize.
var errTooLarge = errors.New("a scenario file must be at most 1 MiB")
