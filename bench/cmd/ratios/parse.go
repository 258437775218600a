package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// sample is one line of benchmark output.
type sample struct {
	scenario, lib, mode    string
	nsPerOp, bytes, allocs float64
	hasMem                 bool // -benchmem: B/op and allocs/op
	cpuNs                  float64
	hasCPU                 bool // the bench module's cpu-ns/op metric
	procs                  int  // GOMAXPROCS, from the name's suffix
}

// parse reads `go test -bench` output and returns the lines that name a
// lib and a mode; other lines (headers, PASS, logs) are skipped.
func parse(r io.Reader) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		s, ok, err := parseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// parseLine reads one result line such as
//
//	BenchmarkBreakerOpen/lib=riprap/mode=serial-2  123  9.5 ns/op  0 B/op  0 allocs/op
//
// ok is false for a line that is not a result with lib= and mode=.
func parseLine(line string) (s sample, ok bool, err error) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return s, false, nil
	}
	if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
		return s, false, nil // "BenchmarkX" alone on a line, or a log line
	}
	if !nameParts(f[0], &s) {
		return s, false, nil
	}
	seenNs := false
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return s, false, fmt.Errorf("value %q of %s: %w", f[i], f[i+1], err)
		}
		switch f[i+1] {
		case "ns/op":
			s.nsPerOp, seenNs = v, true
		case "B/op":
			s.bytes = v
		case "allocs/op":
			s.allocs, s.hasMem = v, true
		case "cpu-ns/op":
			s.cpuNs, s.hasCPU = v, true
		}
	}
	if !seenNs {
		return s, false, fmt.Errorf("no ns/op in %q", line)
	}
	return s, true, nil
}

// nameParts splits "BenchmarkX/lib=a/mode=b-2" into s; it reports whether
// both lib and mode were present.
func nameParts(name string, s *sample) bool {
	name = strings.TrimPrefix(name, "Benchmark")
	s.procs = 1 // go test names no suffix at GOMAXPROCS 1
	if i := strings.LastIndexByte(name, '-'); i > strings.LastIndexByte(name, '/') {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			name, s.procs = name[:i], n // the GOMAXPROCS suffix
		}
	}
	parts := strings.Split(name, "/")
	s.scenario = parts[0]
	for _, p := range parts[1:] {
		k, v, found := strings.Cut(p, "=")
		switch {
		case !found:
		case k == "lib":
			s.lib = v
		case k == "mode":
			s.mode = v
		}
	}
	return s.lib != "" && s.mode != ""
}
