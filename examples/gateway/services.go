package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/riprap-go/riprap/payments/sim"
)

// simServices is the three simulated dependencies on loopback, each behind
// its own fault injector. It is sim.Start with one change: request bodies
// are read before the injector delays a request (see readBodyFirst).
type simServices struct {
	bank *sim.Bank
	fx   *sim.FX
	log  *sim.Log

	injectors map[string]*sim.Injector
	urls      map[string]string
	servers   []*httptest.Server
}

// startServices serves the bank, FX and log with injectors seeded seed,
// seed+1 and seed+2, as sim.Start does.
func startServices(seed uint64) (*simServices, error) {
	s := &simServices{bank: sim.NewBank(sim.BankConfig{}), fx: sim.NewFX(sim.FXConfig{}), log: sim.NewLog(),
		injectors: map[string]*sim.Injector{}, urls: map[string]string{}}
	for i, name := range services {
		inj, err := sim.NewInjector(sim.InjectorConfig{Seed: seed + uint64(i)})
		if err != nil {
			return nil, err
		}
		s.injectors[name] = inj
	}
	handlers := map[string]func() (http.Handler, error){
		"bank": func() (http.Handler, error) { return sim.BankHandler(s.bank, s.injectors["bank"]) },
		"fx":   func() (http.Handler, error) { return sim.FXHandler(s.fx, s.injectors["fx"]) },
		"log":  func() (http.Handler, error) { return sim.LogHandler(s.log, s.injectors["log"]) },
	}
	for _, name := range services {
		h, err := handlers[name]()
		if err != nil {
			s.close()
			return nil, err
		}
		srv := httptest.NewServer(readBodyFirst(h))
		s.servers = append(s.servers, srv)
		s.urls[name] = srv.URL
	}
	return s, nil
}

// readBodyFirst reads a request's body before the handler runs. net/http
// notices a client that hung up (and cancels the request's context) only
// once the body has been read; the injector delays a request before its
// handler reads anything, so without this a POST whose client gave up
// would hold its handler — and the server's Close — for the whole of a
// "hang" window.
func readBodyFirst(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				return // the client is gone
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		h.ServeHTTP(w, r)
	})
}

func (s *simServices) close() {
	for _, srv := range s.servers {
		srv.CloseClientConnections()
		srv.Close()
	}
}
