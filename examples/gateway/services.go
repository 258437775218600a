package main

import (
	"net/http"
	"net/http/httptest"

	"github.com/riprap-go/riprap/payments/sim"
)

// simServices is the three simulated dependencies on loopback, each behind
// its own fault injector, as sim.Start serves them, with the injectors kept
// by name for the report.
type simServices struct {
	bank *sim.Bank
	fx   *sim.FX
	log  *sim.Log

	injectors map[string]*sim.Injector
	urls      map[string]string
	servers   []*httptest.Server
}

// startServices serves the bank, FX and log with injectors seeded seed,
// seed+1 and seed+2, as sim.Start does; the log's own faults draw from
// seed+3.
func startServices(seed uint64) (*simServices, error) {
	s := &simServices{bank: sim.NewBank(sim.BankConfig{}), fx: sim.NewFX(sim.FXConfig{}), log: sim.NewLog(sim.LogConfig{Seed: seed + uint64(len(services))}),
		injectors: map[string]*sim.Injector{}, urls: map[string]string{}}
	for i, name := range services {
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
	for _, name := range services {
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
