package dst

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// instance is the name every gateway of a world runs under, so that a
// restarted one ends its crashed predecessor's claims at once.
const instance = "gw-dst"

// incarnation is one gateway process of a world, from its start to its
// crash (or the end). A crash kills it: its requests in flight are cut,
// and its store calls and new requests fail, so nothing it still does
// reaches the world — the in-memory state it held is simply lost.
type incarnation struct {
	n       int
	gw      *gateway.Gateway
	handler http.RoundTripper // serves the gateway's HTTP handler in-process
	death   context.Context   // ended by kill
	kill    context.CancelFunc

	mu       sync.Mutex     // protects inFlight and peak
	inFlight map[string]int // requests in flight, by dependency and path
	peak     map[string]int
}

func (i *incarnation) dead() bool { return i.death.Err() != nil }

// track counts a request to what starting (+1) or ending (-1).
func (i *incarnation) track(what string, d int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.inFlight[what] += d
	i.peak[what] = max(i.peak[what], i.inFlight[what])
}

func (i *incarnation) peakOf(what string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.peak[what]
}

// startGateway starts a new gateway on the world's store, with clients of
// the simulated services that reach them in-process.
func (r *runner) startGateway() error {
	r.mu.Lock()
	r.gateways++
	inc := &incarnation{n: r.gateways, inFlight: map[string]int{}, peak: map[string]int{}}
	r.mu.Unlock()
	inc.death, inc.kill = context.WithCancel(context.Background())
	cfg, err := r.gatewayConfig(inc)
	if err != nil {
		inc.kill()
		return err
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		var ce *resilience.ConfigError
		r.out.Refused = errors.As(err, &ce)
		inc.kill()
		return err
	}
	inc.gw = gw
	h := labelled(gw.Handler())
	if r.hooks.handler != nil {
		h = r.hooks.handler(h)
	}
	inc.handler = httpapi.HandlerTransport(h)
	r.mu.Lock()
	r.inc = inc
	r.mu.Unlock()
	return nil
}

func (r *runner) gatewayConfig(inc *incarnation) (gateway.Config, error) {
	hc := func(dep string) httpapi.ClientConfig {
		return httpapi.ClientConfig{HTTPClient: &http.Client{Transport: &depTransport{r: r, inc: inc, dep: dep, rt: r.services[dep]}}}
	}
	bank, err := httpapi.NewBankClient("http://bank.sim.invalid", hc("bank"))
	if err != nil {
		return gateway.Config{}, err
	}
	fx, err := httpapi.NewFXClient("http://fx.sim.invalid", hc("fx"))
	if err != nil {
		return gateway.Config{}, err
	}
	log, err := httpapi.NewLogClient("http://log.sim.invalid", hc("log"))
	if err != nil {
		return gateway.Config{}, err
	}
	var st store.Store = &storeShim{Store: r.store, r: r, inc: inc}
	if r.hooks.store != nil {
		st = r.hooks.store(st)
	}
	var b payments.Bank = bank
	if r.hooks.bank != nil {
		b = r.hooks.bank(bank)
	}
	cfg := r.w.Gateway.gatewayConfig()
	cfg.Bank, cfg.FX, cfg.Log, cfg.Store, cfg.Instance = b, fx, log, st, instance
	cfg.Clock = seqClock{Clock: clock.New(), r: r, inc: inc}
	cfg.Logger = discardLogger
	// Every draw of the gateway's own policies (the default backoff, the
	// reconciler's spacing of checks) from the world's seed.
	cfg.Rand = newPCG(r.w.Seed, streamGateway+uint64(inc.n)<<8)
	if r.w.Bank2 != nil {
		if err := r.twoBanks(&cfg, inc, hc("bank2")); err != nil {
			return gateway.Config{}, err
		}
	}
	if r.hooks.config != nil {
		r.hooks.config(&cfg)
	}
	cfg.Listeners = resilience.Listeners{resilience.OnKinds(r.recorder(inc),
		resilience.EventStateChange, resilience.EventRejection)}
	return cfg, nil
}

// recorder records the breakers' state changes and refusals of one
// gateway while it lives.
func (r *runner) recorder(inc *incarnation) func(resilience.Event) {
	return func(e resilience.Event) {
		if e.Policy != "breaker" || inc.dead() {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.out.Events = append(r.out.Events, Event{Gateway: inc.n, At: r.offset(), Kind: e.Kind.String(),
			Policy: e.Policy, Name: e.Name, From: e.From, To: e.To})
	}
}

// crash kills the gateway: its requests in flight are cut, its calls
// fail from now on, and its loops are stopped (they could do nothing any
// more anyway). The store is untouched.
func (r *runner) crash() {
	r.mu.Lock()
	inc := r.inc
	r.inc = nil
	r.mu.Unlock()
	if inc == nil {
		return
	}
	r.sampleIncarnation(inc)
	inc.kill()
	inc.gw.Close()
}

// restart starts a gateway again after a crash, unless one is up.
func (r *runner) restart() {
	if r.current() != nil {
		return
	}
	if err := r.startGateway(); err != nil {
		r.out.Err = err.Error()
	}
}

// sampleIncarnation keeps the peaks of a gateway's requests in flight.
func (r *runner) sampleIncarnation(inc *incarnation) {
	batches, lookups := inc.peakOf("log batch"), inc.peakOf("bank status")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out.Peaks.LogBatches = max(r.out.Peaks.LogBatches, batches)
	r.out.Peaks.StatusLookups = max(r.out.Peaks.StatusLookups, lookups)
}

// twoBanks moves cfg's bank and its policy onto the first of two
// acquirers, "bank" and "bank2", both on that policy (each with a backoff
// of its own, drawn from the seed) and the world's weights.
func (r *runner) twoBanks(cfg *gateway.Config, inc *incarnation, hc httpapi.ClientConfig) error {
	bank2, err := httpapi.NewBankClient("http://bank2.sim.invalid", hc)
	if err != nil {
		return err
	}
	var b2 payments.Bank = bank2
	if r.hooks.bank != nil {
		b2 = r.hooks.bank(bank2)
	}
	cfg.Acquirers = []gateway.Acquirer{{Name: "bank", Bank: cfg.Bank, Policy: cfg.BankPolicy},
		{Name: "bank2", Bank: b2, Policy: cfg.BankPolicy}}
	for i, wt := range r.w.Gateway.BankWeights {
		cfg.Acquirers[i].Weight = wt
	}
	cfg.Bank, cfg.BankPolicy = nil, gateway.BankPolicy{}
	return nil
}
