package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments/sim"
)

// The three simulated dependencies, in the order reports list them.
var services = []string{"bank", "fx", "log"}

// Fault kinds a scenario can schedule.
const (
	// KindOutage: the service refuses every request at once with a 503 and
	// a Retry-After (a load balancer with no healthy backend).
	KindOutage = "outage"
	// KindHang: the service accepts requests and never answers; each one
	// waits until the client gives up (a dead host behind a live socket).
	KindHang = "hang"
	// KindSlowdown: every request is delayed by Extra.
	KindSlowdown = "slowdown"
)

// hangDelay is how long a hung request is held: longer than any client
// timeout, so the client always gives up first.
const hangDelay = 5 * time.Minute

// Fault is one scheduled fault window of one service, as offsets from the
// start of the run.
type Fault struct {
	Service string        `json:"service"`
	Kind    string        `json:"kind"`
	Start   time.Duration `json:"start"`
	End     time.Duration `json:"end"`
	Extra   time.Duration `json:"extra,omitempty"` // slowdown only
}

// Noise is the background misbehaviour of a service for the whole run.
type Noise struct {
	ErrorBP     int           `json:"error_bp"`      // injected 503s, in basis points
	LostReplyBP int           `json:"lost_reply_bp"` // committed, reply lost (502)
	Latency     time.Duration `json:"latency"`       // fixed latency
	Jitter      time.Duration `json:"jitter"`        // plus uniform [0, Jitter]
}

// Scenario is a whole drill: how long, how many payments per second, and
// which faults when. It is plain data.
type Scenario struct {
	Name        string
	Description string
	Duration    time.Duration
	Rate        int // payments per second
	Faults      []Fault
	Noise       map[string]Noise
}

// defaultNoise is a healthy but imperfect world: a little latency and,
// at the bank, the odd lost reply that only reconciliation can settle.
func defaultNoise() map[string]Noise {
	return map[string]Noise{
		"bank": {LostReplyBP: 50, Latency: 2 * time.Millisecond, Jitter: 8 * time.Millisecond},
		"fx":   {Latency: time.Millisecond, Jitter: 4 * time.Millisecond},
		"log":  {Latency: time.Millisecond, Jitter: 4 * time.Millisecond},
	}
}

// builtins are the scenarios -scenario accepts by name. Their windows are
// written for a 12s run and scale with -duration.
var builtins = map[string]Scenario{
	"drill": {
		Name:        "drill",
		Description: "normal → bank hangs → FX slows down → log refuses → recovery",
		Duration:    12 * time.Second, Rate: 300, Noise: defaultNoise(),
		Faults: []Fault{
			{Service: "bank", Kind: KindHang, Start: 2 * time.Second, End: 5 * time.Second},
			{Service: "fx", Kind: KindSlowdown, Start: 5500 * time.Millisecond, End: 7500 * time.Millisecond, Extra: time.Second},
			{Service: "log", Kind: KindOutage, Start: 7500 * time.Millisecond, End: 9500 * time.Millisecond},
		},
	},
	"bank-outage": {
		Name:        "bank-outage",
		Description: "normal → the bank refuses everything with 503 → recovery",
		Duration:    12 * time.Second, Rate: 300, Noise: defaultNoise(),
		Faults: []Fault{{Service: "bank", Kind: KindOutage, Start: 3 * time.Second, End: 8 * time.Second}},
	},
	"calm": {
		Name: "calm", Description: "no scheduled faults, background noise only",
		Duration: 12 * time.Second, Rate: 300, Noise: defaultNoise(),
	},
}

func builtinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// loadScenario returns the built-in scenario of that name, or reads a JSON
// file.
func loadScenario(nameOrPath string) (Scenario, error) {
	if s, ok := builtins[nameOrPath]; ok {
		return s.clone(), nil
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return Scenario{}, fmt.Errorf("scenario %q is neither a built-in (%s) nor a readable file: %w",
			nameOrPath, strings.Join(builtinNames(), ", "), err)
	}
	s, err := parseScenario(data)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", nameOrPath, err)
	}
	return s, nil
}

func (s Scenario) clone() Scenario {
	s.Faults = slices.Clone(s.Faults)
	s.Noise = maps.Clone(s.Noise)
	return s
}

// scaled returns s stretched or shrunk to last d, every window with it.
func (s Scenario) scaled(d time.Duration) Scenario {
	s = s.clone()
	if d <= 0 || d == s.Duration {
		return s
	}
	// In milliseconds, so that the product cannot overflow for any run
	// shorter than a day.
	scale := func(t time.Duration) time.Duration {
		return time.Duration(t.Milliseconds()*d.Milliseconds()/s.Duration.Milliseconds()) * time.Millisecond
	}
	for i := range s.Faults {
		s.Faults[i].Start, s.Faults[i].End = scale(s.Faults[i].Start), scale(s.Faults[i].End)
	}
	s.Duration = d
	return s
}

// validate checks the whole scenario; problems of one fault name it.
func (s Scenario) validate() error {
	if s.Duration <= 0 {
		return &fieldError{"duration", fmt.Errorf("must be positive, got %s", s.Duration)}
	}
	if s.Rate <= 0 || s.Rate > 10000 {
		return &fieldError{"rate", fmt.Errorf("must be in [1, 10000] payments per second, got %d", s.Rate)}
	}
	for i, f := range s.Faults {
		if err := f.validate(s.Duration); err != nil {
			return &fieldError{fmt.Sprintf("faults[%d]", i), err}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Noise)) {
		if err := s.Noise[name].validate(name); err != nil {
			return &fieldError{"noise." + name, err}
		}
	}
	return nil
}

func (f Fault) validate(total time.Duration) error {
	if !slices.Contains(services, f.Service) {
		return fmt.Errorf("service must be one of %s, got %q", strings.Join(services, ", "), f.Service)
	}
	switch f.Kind {
	case KindOutage, KindHang:
	case KindSlowdown:
		if f.Extra <= 0 {
			return fmt.Errorf("a slowdown needs a positive extra latency, got %s", f.Extra)
		}
	default:
		return fmt.Errorf("kind must be %s, %s or %s, got %q", KindOutage, KindHang, KindSlowdown, f.Kind)
	}
	if f.Start < 0 || f.End <= f.Start || f.End > total {
		return fmt.Errorf("want 0 <= start < end <= duration (%s), got start %s, end %s", total, f.Start, f.End)
	}
	return nil
}

func (n Noise) validate(service string) error {
	if !slices.Contains(services, service) {
		return fmt.Errorf("service must be one of %s, got %q", strings.Join(services, ", "), service)
	}
	if n.ErrorBP < 0 || n.ErrorBP > 10000 || n.LostReplyBP < 0 || n.LostReplyBP > 10000 || n.Latency < 0 || n.Jitter < 0 {
		return errors.New("rates must be in [0, 10000] basis points and latencies >= 0")
	}
	return nil
}

// faults turns the scenario's windows and noise for one service into the
// simulator's faults.
func (s Scenario) faults(service string) sim.Faults {
	n := s.Noise[service]
	f := sim.Faults{ErrorRate: sim.Chance(n.ErrorBP), LostReplyRate: sim.Chance(n.LostReplyBP),
		Latency: sim.Latency{Fixed: n.Latency, Jitter: n.Jitter}}
	for _, w := range s.Faults {
		if w.Service != service {
			continue
		}
		sw := sim.Window{Kind: sim.Outage, Start: w.Start, End: w.End}
		switch w.Kind {
		case KindHang:
			sw.Kind, sw.Extra = sim.Slowdown, hangDelay
		case KindSlowdown:
			sw.Kind, sw.Extra = sim.Slowdown, w.Extra
		}
		f.Windows = append(f.Windows, sw)
	}
	return f
}

// windows returns the fault windows of one service.
func (s Scenario) windows(service string) []Fault {
	var out []Fault
	for _, f := range s.Faults {
		if f.Service == service {
			out = append(out, f)
		}
	}
	return out
}

// The JSON form of a scenario file. Durations are Go duration strings
// ("2.5s"), so a file reads like the flags.
type fileScenario struct {
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Duration    string               `json:"duration"`
	Rate        int                  `json:"rate"`
	Faults      []fileFault          `json:"faults"`
	Noise       map[string]fileNoise `json:"noise"`
}

type fileFault struct {
	Service string `json:"service"`
	Kind    string `json:"kind"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Extra   string `json:"extra"`
}

type fileNoise struct {
	ErrorBP     int    `json:"error_bp"`
	LostReplyBP int    `json:"lost_reply_bp"`
	Latency     string `json:"latency"`
	Jitter      string `json:"jitter"`
}

// parseScenario reads a scenario file. Every error names the line and
// column where the problem is: a syntax error where the parser stopped, a
// bad value at the start of the object that holds it.
func parseScenario(data []byte) (Scenario, error) {
	var fs fileScenario
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fs); err != nil {
		return Scenario{}, jsonError(data, err)
	}
	end := skipSpace(data, dec.InputOffset())
	if _, err := dec.Token(); err != io.EOF {
		return Scenario{}, fmt.Errorf("%s: unexpected data after the scenario object", position(data, end))
	}
	s, err := fs.convert()
	if err == nil {
		err = s.validate()
	}
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", locate(data, err), err)
	}
	return s, nil
}

// jsonError adds the position to a decoding error.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte: point at it.
		return fmt.Errorf("%s: invalid JSON: %w", position(data, syn.Offset-1), err)
	case errors.As(err, &typ):
		// Offset is past the value; a top-level field can be found by its key.
		at := position(data, typ.Offset)
		if off, ok := keyOffsets(data)[typ.Field]; ok {
			at = position(data, off)
		}
		return fmt.Errorf("%s: field %q must be a %s, got a JSON %s", at, typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the file ends before the scenario object does", position(data, int64(len(data))))
	}
	// Unknown fields: encoding/json gives no offset, so find the name.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if i := bytes.Index(data, []byte(name)); i >= 0 {
			return fmt.Errorf("%s: unknown field %s", position(data, int64(i)), name)
		}
	}
	return fmt.Errorf("invalid scenario: %w", err)
}

// fieldError is a problem with one value; path ("faults[1].start") lets
// locate find it in the file.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func (fs fileScenario) convert() (Scenario, error) {
	s := Scenario{Name: fs.Name, Description: fs.Description, Rate: fs.Rate, Noise: map[string]Noise{}}
	var err error
	if s.Duration, err = parseDuration("duration", fs.Duration); err != nil {
		return s, err
	}
	for i, f := range fs.Faults {
		sf := Fault{Service: f.Service, Kind: f.Kind}
		if sf.Start, err = parseDuration(fmt.Sprintf("faults[%d].start", i), f.Start); err != nil {
			return s, err
		}
		if sf.End, err = parseDuration(fmt.Sprintf("faults[%d].end", i), f.End); err != nil {
			return s, err
		}
		if f.Extra != "" {
			if sf.Extra, err = parseDuration(fmt.Sprintf("faults[%d].extra", i), f.Extra); err != nil {
				return s, err
			}
		}
		s.Faults = append(s.Faults, sf)
	}
	for name, n := range fs.Noise {
		sn := Noise{ErrorBP: n.ErrorBP, LostReplyBP: n.LostReplyBP}
		for _, d := range []struct {
			field, v string
			to       *time.Duration
		}{{"latency", n.Latency, &sn.Latency}, {"jitter", n.Jitter, &sn.Jitter}} {
			if d.v == "" {
				continue
			}
			if *d.to, err = parseDuration("noise."+name+"."+d.field, d.v); err != nil {
				return s, err
			}
		}
		s.Noise[name] = sn
	}
	return s, nil
}

func parseDuration(path, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, &fieldError{path: path, err: fmt.Errorf("want a duration such as \"2.5s\", got %q", v)}
	}
	return d, nil
}
