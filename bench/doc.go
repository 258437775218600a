// Package bench holds side-by-side benchmarks of riprap against the
// libraries a Go programmer would pick instead: sony/gobreaker v2,
// failsafe-go, eapache/go-resiliency, cenkalti/backoff v5 and
// golang.org/x/time/rate.
//
// It is a module of its own, so the core module never depends on a peer.
// Every scenario is a Benchmark function whose sub-benchmarks are named
// lib=NAME/mode=serial|parallel (mode=new for the memory of a breaker), so
// that `benchstat -col /lib` lays the libraries out side by side; run.sh
// runs them all, at the GOMAXPROCS values of $CPU, and prints the ratios.
// Both sides use the same settings: trip on 5 consecutive failures, stay
// open 1 minute, 3 half-open probes, 3 attempts with a 1ms–100ms backoff.
//
// The outage comparison, which needs real time, is the program in
// cmd/outage.
package bench
