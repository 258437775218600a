package main

import (
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/riprap-go/riprap/payments/sim"
)

// simServices is the simulated dependencies on loopback — the bank (and
// a second one, bank2, in a two-bank scenario), FX and the log — each
// behind its own fault injector, as sim.Start serves them, with the
// injectors kept by name for the report.
type simServices struct {
	bank  *sim.Bank
	bank2 *sim.Bank // nil with one bank
	fx    *sim.FX
	log   *sim.Log

	injectors map[string]*sim.Injector
	urls      map[string]string
	servers   []*httptest.Server
}

// startServices serves the named services (Scenario.services) with
// injectors seeded seed, seed+1, … in that order — for one bank, FX and
// log, as sim.Start does; the log's own faults draw from the next seed.
func startServices(seed uint64, names []string) (*simServices, error) {
	s := &simServices{bank: sim.NewBank(sim.BankConfig{}), fx: sim.NewFX(sim.FXConfig{}), log: sim.NewLog(sim.LogConfig{Seed: seed + uint64(len(names))}),
		injectors: map[string]*sim.Injector{}, urls: map[string]string{}}
	if slices.Contains(names, secondBank) {
		s.bank2 = sim.NewBank(sim.BankConfig{})
	}
	for i, name := range names {
		inj, err := sim.NewInjector(sim.InjectorConfig{Seed: seed + uint64(i)})
		if err != nil {
			return nil, err
		}
		s.injectors[name] = inj
	}
	handlers := map[string]http.Handler{
		"bank": sim.BankHandler(s.bank, s.injectors["bank"]),
		"fx":   sim.FXHandler(s.fx, s.injectors["fx"]),
		"log":  sim.LogHandler(s.log, s.injectors["log"]),
	}
	if s.bank2 != nil {
		handlers[secondBank] = sim.BankHandler(s.bank2, s.injectors[secondBank])
	}
	for _, name := range names {
		srv := httptest.NewServer(handlers[name])
		s.servers = append(s.servers, srv)
		s.urls[name] = srv.URL
	}
	return s, nil
}

func (s *simServices) close() {
	for _, srv := range s.servers {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// banks returns the simulated banks, the primary first.
func (s *simServices) banks() []*sim.Bank {
	if s.bank2 == nil {
		return []*sim.Bank{s.bank}
	}
	return []*sim.Bank{s.bank, s.bank2}
}
