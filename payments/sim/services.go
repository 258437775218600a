package sim

import (
	"net/http"
	"net/http/httptest"

	"github.com/benbjohnson/clock"
)

// ServicesConfig configures [Start]. The zero value is ready to use.
type ServicesConfig struct {
	// Clock drives the services and their injectors; nil means the real
	// clock.
	Clock clock.Clock
	// Seed seeds the three injectors (Seed, Seed+1, Seed+2), so that a
	// chaos run can be replayed.
	Seed uint64
}

// Services is the three simulated dependencies, each served on its own
// 127.0.0.1 port behind its own [Injector], with no faults until told. The
// fields are set by [Start] and must not be reassigned; the services and
// injectors they point to are safe for concurrent use.
type Services struct {
	Bank *Bank
	FX   *FX
	Log  *Log

	BankFaults, FXFaults, LogFaults *Injector

	BankURL, FXURL, LogURL string

	servers []*httptest.Server
}

// Start creates the three services and serves them on loopback. Call
// [Services.Close] when done.
func Start(cfg ServicesConfig) (*Services, error) {
	s := &Services{Bank: NewBank(BankConfig{Clock: cfg.Clock}), FX: NewFX(FXConfig{Clock: cfg.Clock}), Log: NewLog()}
	var err error
	injector := func(seed uint64) *Injector {
		inj, e := NewInjector(InjectorConfig{Clock: cfg.Clock, Seed: seed})
		if e != nil && err == nil {
			err = e
		}
		return inj
	}
	s.BankFaults, s.FXFaults, s.LogFaults = injector(cfg.Seed), injector(cfg.Seed+1), injector(cfg.Seed+2)
	if err != nil {
		return nil, err
	}
	bank, err1 := BankHandler(s.Bank, s.BankFaults)
	fx, err2 := FXHandler(s.FX, s.FXFaults)
	log, err3 := LogHandler(s.Log, s.LogFaults)
	for _, e := range []error{err1, err2, err3} {
		if e != nil {
			return nil, e
		}
	}
	s.BankURL, s.FXURL, s.LogURL = s.serve(bank), s.serve(fx), s.serve(log)
	return s, nil
}

func (s *Services) serve(h http.Handler) string {
	srv := httptest.NewServer(h) // listens on 127.0.0.1:0
	s.servers = append(s.servers, srv)
	return srv.URL
}

// Close stops the servers, cutting open connections, and waits for their
// handlers to return; a handler delayed by injected latency returns as soon
// as its request's context ends.
func (s *Services) Close() {
	for _, srv := range s.servers {
		srv.CloseClientConnections()
		srv.Close()
	}
}
