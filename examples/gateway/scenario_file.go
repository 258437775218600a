package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// loadScenario returns the built-in scenario of that name, or reads a JSON
// file.
func loadScenario(nameOrPath string) (Scenario, error) {
	if s, ok := builtins[nameOrPath]; ok {
		return s.clone(), nil
	}
	data, err := readFile(nameOrPath)
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

// readFile reads a file of at most maxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err == nil && len(data) > maxFileSize {
		err = errTooLarge
	}
	return data, err
}

// The JSON form of a scenario file. Durations are Go duration strings
// ("2.5s"), so a file reads like the flags.
type fileScenario struct {
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Duration    string               `json:"duration"`
	Rate        int                  `json:"rate"`
	Banks       int                  `json:"banks"`
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
	ErrorBP       int    `json:"error_bp"`
	LostReplyBP   int    `json:"lost_reply_bp"`
	Latency       string `json:"latency"`
	Jitter        string `json:"jitter"`
	AppendErrorBP int    `json:"append_error_bp"`
}

// parseScenario reads a scenario file. Every error names the line and
// column where the problem is: a syntax error where the parser stopped, a
// bad value at the start of the object that holds it.
func parseScenario(data []byte) (Scenario, error) {
	if len(data) > maxFileSize {
		return Scenario{}, errTooLarge
	}
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

func (fs fileScenario) convert() (Scenario, error) {
	s := Scenario{Name: fs.Name, Description: fs.Description, Rate: fs.Rate, Banks: fs.Banks, Noise: map[string]Noise{}}
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
		sn := Noise{ErrorBP: n.ErrorBP, LostReplyBP: n.LostReplyBP, AppendErrorBP: n.AppendErrorBP}
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
