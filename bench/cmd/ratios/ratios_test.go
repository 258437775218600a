package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
		want sample
	}{
		{"full", "BenchmarkBreakerOpen/lib=riprap/mode=serial-2  \t 1000 \t 9.5 ns/op \t 0 B/op \t 0 allocs/op", true,
			sample{scenario: "BreakerOpen", lib: "riprap", mode: "serial", nsPerOp: 9.5, bytes: 0, hasMem: true, procs: 2}},
		{"no procs suffix", "BenchmarkX/mode=parallel/lib=go-breaker 5 120 ns/op 48 B/op 3 allocs/op", true,
			sample{scenario: "X", lib: "go-breaker", mode: "parallel", nsPerOp: 120, bytes: 48, allocs: 3, hasMem: true, procs: 1}},
		{"no benchmem", "BenchmarkX/lib=a/mode=serial-8 5 7 ns/op", true,
			sample{scenario: "X", lib: "a", mode: "serial", nsPerOp: 7, procs: 8}},
		{"no lib", "BenchmarkX/mode=serial-2 5 7 ns/op", false, sample{}},
		{"header", "goos: linux", false, sample{}},
		{"name only", "BenchmarkX/lib=a/mode=serial-2", false, sample{}},
		{"log line", "BenchmarkX/lib=a/mode=serial-2 says hello to you", false, sample{}},
	}
	for _, tt := range tests {
		got, ok, err := parseLine(tt.line)
		if err != nil {
			t.Errorf("%s: unexpected error %v", tt.name, err)
			continue
		}
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseLineRejectsGarbledValues(t *testing.T) {
	if _, _, err := parseLine("BenchmarkX/lib=a/mode=serial-2 5 seven ns/op"); err == nil {
		t.Error("got no error for a non-numeric ns/op")
	}
	if _, _, err := parseLine("BenchmarkX/lib=a/mode=serial-2 5 7 B/op 1 allocs/op"); err == nil {
		t.Error("got no error for a line without ns/op")
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 10, 10, 10, 90}, 10},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

const sampleOutput = `goos: linux
BenchmarkBaseline/lib=call/mode=serial-2   100 1.0 ns/op 0 B/op 0 allocs/op
BenchmarkOpen/lib=riprap/mode=serial-2     100 10 ns/op 0 B/op 0 allocs/op
BenchmarkOpen/lib=riprap/mode=parallel-2   100 5 ns/op 0 B/op 0 allocs/op
BenchmarkOpen/lib=peer/mode=serial-2       100 40 ns/op 64 B/op 2 allocs/op
BenchmarkOpen/lib=peer/mode=parallel-2     100 50 ns/op 0 B/op 2 allocs/op
BenchmarkOpen/lib=riprap/mode=serial-2     100 12 ns/op 0 B/op 0 allocs/op
BenchmarkOpen/lib=riprap/mode=parallel-2   100 5 ns/op 0 B/op 0 allocs/op
BenchmarkOpen/lib=peer/mode=serial-2       100 44 ns/op 32 B/op 2 allocs/op
BenchmarkOpen/lib=peer/mode=parallel-2     100 50 ns/op 0 B/op 2 allocs/op
PASS
`

func TestSummariseGroupsByScenarioThenMode(t *testing.T) {
	samples, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	rows := summarise(samples)
	want := []row{
		{scenario: "Baseline", mode: "serial", lib: "call", ns: 1, hasMem: true, runs: 1},
		{scenario: "Open", mode: "serial", lib: "riprap", ns: 11, hasMem: true, runs: 2},
		{scenario: "Open", mode: "serial", lib: "peer", ns: 42, bytes: 48, allocs: 2, hasMem: true, runs: 2},
		{scenario: "Open", mode: "parallel", lib: "riprap", ns: 5, hasMem: true, runs: 2},
		{scenario: "Open", mode: "parallel", lib: "peer", ns: 50, allocs: 2, hasMem: true, runs: 2},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, rows[i], want[i])
		}
	}
}

// Runs at several GOMAXPROCS (go test -cpu 1,2) are not merged: each
// mode is split by it.
func TestSummariseSplitsModesByProcs(t *testing.T) {
	samples, err := parse(strings.NewReader(`BenchmarkOpen/lib=riprap/mode=parallel   100 8 ns/op
BenchmarkOpen/lib=peer/mode=parallel     100 16 ns/op
BenchmarkOpen/lib=riprap/mode=parallel-2   100 4 ns/op
BenchmarkOpen/lib=peer/mode=parallel-2     100 20 ns/op
`))
	if err != nil {
		t.Fatal(err)
	}
	rows := summarise(samples)
	want := []row{
		{scenario: "Open", mode: "parallel-1", lib: "riprap", ns: 8, runs: 1},
		{scenario: "Open", mode: "parallel-1", lib: "peer", ns: 16, runs: 1},
		{scenario: "Open", mode: "parallel-2", lib: "riprap", ns: 4, runs: 1},
		{scenario: "Open", mode: "parallel-2", lib: "peer", ns: 20, runs: 1},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, rows[i], want[i])
		}
	}
	if q, _ := ratio(rows, rows[3], "riprap", wallNs); q != 0.2 {
		t.Errorf("ratio at 2 procs: got %v, want 0.2", q)
	}
}

func TestRenderRatios(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, "riprap", []string{writeTemp(t, sampleOutput)}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 7 {
		t.Fatalf("got %d lines, want 7:\n%s", len(lines), out.String())
	}
	checks := []struct {
		line  int
		cells []string
	}{
		{2, []string{"Baseline", "serial", "call", "1.00", "0", "0", "—"}},
		{3, []string{"Open", "serial", "riprap", "11.0", "0", "0", "1.00"}},
		{4, []string{"", "", "peer", "42.0", "48", "2", "0.26"}},
		{6, []string{"", "", "peer", "50.0", "0", "2", "0.10"}},
	}
	for _, c := range checks {
		got := cells(lines[c.line])
		if strings.Join(got, ",") != strings.Join(c.cells, ",") {
			t.Errorf("line %d: got %q, want %q", c.line, got, c.cells)
		}
	}
}

func TestFormatRatio(t *testing.T) {
	for q, want := range map[float64]string{1: "1.00", 0.26: "0.26", 39.31: "39.31", 0.1: "0.10", 0.0432: "0.043", 0.00431: "0.0043"} {
		if got := formatRatio(q); got != want {
			t.Errorf("formatRatio(%v): got %q, want %q", q, got, want)
		}
	}
}

func TestRunRefusesEmptyInput(t *testing.T) {
	if err := run(&bytes.Buffer{}, "riprap", []string{writeTemp(t, "PASS\n")}); err == nil {
		t.Error("got no error for input without benchmarks")
	}
}

func cells(line string) []string {
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func writeTemp(t *testing.T, s string) string {
	t.Helper()
	p := t.TempDir() + "/raw.txt"
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The bench module's cpu-ns/op metric gets a median and a ratio of its
// own; a row without it shows "?".
func TestRenderCPUColumns(t *testing.T) {
	in := `BenchmarkOpen/lib=riprap/mode=serial-2  100  20 ns/op  4 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkOpen/lib=riprap/mode=serial-2  100  30 ns/op  6 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkOpen/lib=peer/mode=serial-2    100  40 ns/op  20 cpu-ns/op  0 B/op  0 allocs/op
BenchmarkOpen/lib=other/mode=serial-2   100  50 ns/op  0 B/op  0 allocs/op
`
	var out bytes.Buffer
	if err := run(&out, "riprap", []string{writeTemp(t, in)}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := [][]string{
		{"Open", "serial", "riprap", "25.0", "0", "0", "1.00", "5.00", "1.00"},
		{"", "", "peer", "40.0", "0", "0", "0.62", "20.0", "0.25"},
		{"", "", "other", "50.0", "0", "0", "0.50", "?", "—"},
	}
	if len(lines) != 2+len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), 2+len(want), out.String())
	}
	for i, w := range want {
		if got := cells(lines[2+i]); strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("line %d: got %q, want %q", 2+i, got, w)
		}
	}
}
