package main

import (
	"testing"
	"time"

	"github.com/riprap-go/riprap/payments/sim"
)

// FuzzScenario feeds arbitrary bytes to the scenario parser, as a -scenario
// file would. Bad input is refused with an error, never a panic; what is
// accepted is within every bound, survives any -duration the flag allows,
// and always turns into faults the simulator accepts. The seed corpus in
// testdata/fuzz/FuzzScenario (the inputs that once panicked among them)
// runs with every go test.
func FuzzScenario(f *testing.F) {
	f.Add([]byte(`{"duration": "12s", "rate": 300}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseScenario(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error must say what is wrong")
			}
			return
		}
		if err := s.validate(); err != nil {
			t.Fatalf("parseScenario accepted an invalid scenario: %v", err)
		}
		if n := s.payments(); n < 0 || n > maxPayments {
			t.Fatalf("%d payments accepted", n)
		}
		for _, d := range []time.Duration{0, minDuration, s.Duration / 3, s.Duration * 7, maxDuration} {
			sc := s.scaled(d)
			if sc.validate() != nil {
				continue // refused, as the command would
			}
			checkSimAccepts(t, sc)
			if sc.payments() <= 2000 && len(workload(sc, 1)) != int(sc.payments()) {
				t.Fatalf("workload of %d payments, want %d", len(workload(sc, 1)), sc.payments())
			}
		}
	})
}

func checkSimAccepts(t *testing.T, s Scenario) {
	t.Helper()
	inj, err := sim.NewInjector(sim.InjectorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range s.services() {
		if err := inj.Set(s.faults(name)); err != nil {
			t.Fatalf("%s: the simulator refuses a valid scenario: %v", name, err)
		}
	}
	if err := sim.NewLog(sim.LogConfig{}).SetFaults(s.logFaults()); err != nil {
		t.Fatalf("log: the simulator refuses a valid scenario: %v", err)
	}
}
