package sim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments/httpapi"
)

// ServicesConfig configures [Start]. The zero value is ready to use.
type ServicesConfig struct {
	// Clock drives the services and their injectors; nil means the real
	// clock.
	Clock clock.Clock
	// Seed seeds the three injectors (Seed, Seed+1, Seed+2) and the log's
	// own faults (Seed+3), so that a chaos run can be replayed.
	Seed uint64
	// InProcess serves the services on no socket: their URLs are
	// http://bank.sim.invalid, http://fx.sim.invalid and
	// http://log.sim.invalid, reachable only through [Services.Transport].
	// With a mock clock (or testing/synctest) and a seed, a whole run is
	// then deterministic.
	InProcess bool
}

// Services is the three simulated dependencies, each behind its own
// [Injector], with no faults until told, served on its own 127.0.0.1 port
// (or in-process, see [ServicesConfig.InProcess]). The fields are set by
// [Start] and must not be reassigned; the services and injectors they point
// to are safe for concurrent use.
type Services struct {
	Bank *Bank
	FX   *FX
	Log  *Log

	BankFaults, FXFaults, LogFaults *Injector

	BankURL, FXURL, LogURL string

	byHost  map[string]http.RoundTripper // URL host → in-process transport
	servers []*httptest.Server
}

// Start creates the three services and serves them. Call [Services.Close]
// when done.
func Start(cfg ServicesConfig) (*Services, error) {
	s := &Services{Bank: NewBank(BankConfig{Clock: cfg.Clock}), FX: NewFX(FXConfig{Clock: cfg.Clock}),
		Log: NewLog(LogConfig{Seed: cfg.Seed + 3}), byHost: map[string]http.RoundTripper{}}
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
	s.BankURL = s.serve("bank", BankHandler(s.Bank, s.BankFaults), cfg.InProcess)
	s.FXURL = s.serve("fx", FXHandler(s.FX, s.FXFaults), cfg.InProcess)
	s.LogURL = s.serve("log", LogHandler(s.Log, s.LogFaults), cfg.InProcess)
	return s, nil
}

func (s *Services) serve(name string, h http.Handler, inProcess bool) string {
	base := "http://" + name + ".sim.invalid" // .invalid: never resolves, so never reaches a network
	if !inProcess {
		srv := httptest.NewServer(h) // listens on 127.0.0.1:0
		s.servers = append(s.servers, srv)
		base = srv.URL
	}
	u, _ := url.Parse(base)
	s.byHost[u.Host] = httpapi.HandlerTransport(h)
	return base
}

// Transport returns an http.RoundTripper that serves requests to the three
// URLs in-process, whichever way they are served, through
// httpapi.HandlerTransport; a request to any other host fails. It is safe
// for concurrent use.
func (s *Services) Transport() http.RoundTripper { return hostRouter(s.byHost) }

type hostRouter map[string]http.RoundTripper

func (r hostRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt, ok := r[req.URL.Host]; ok {
		return rt.RoundTrip(req)
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return nil, fmt.Errorf("sim: no simulated service at %q", req.URL.Host)
}

// Close stops the servers, cutting open connections, and waits for their
// handlers to return; a handler delayed by injected latency returns as soon
// as its request's context ends. In-process services have nothing to stop.
func (s *Services) Close() {
	for _, srv := range s.servers {
		srv.CloseClientConnections()
		srv.Close()
	}
}
