// Command ratios reads the raw output of `go test -bench` for the bench
// module and prints, per scenario and mode, the median ns/op, B/op and
// allocs/op of each library and the ratio riprap / library of the medians (below 1:
// riprap is faster). The median is the centre benchstat reports too.
//
// Usage:
//
//	ratios [-ref riprap] [file]
//
// With no file it reads standard input. Sub-benchmarks must be named
// lib=NAME and mode=NAME; benchmarks without a lib are skipped. Runs at
// several GOMAXPROCS (go test -cpu 1,2,4) are kept apart, each mode named
// after its count, like parallel-4.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	ref := flag.String("ref", "riprap", "the lib= value the ratios are computed for")
	flag.Parse()
	if err := run(os.Stdout, *ref, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, ref string, args []string) error {
	var in io.Reader = os.Stdin
	switch len(args) {
	case 0:
	case 1:
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	default:
		return fmt.Errorf("at most one input file, got %d", len(args))
	}
	samples, err := parse(in)
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		return fmt.Errorf("no benchmark lines with lib= and mode= in the input")
	}
	return render(w, summarise(samples), ref)
}
