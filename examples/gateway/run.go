package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// runConfig is one run of a scenario, with or without protection.
type runConfig struct {
	scenario    Scenario
	seed        uint64
	concurrency int
	protected   bool
	// oneBank runs a two-bank scenario's gateway with the primary bank
	// only: the comparison that shows what failover brings.
	oneBank     bool
	logger      *slog.Logger
	progress    *printer      // one line per second; nil: none
	sampleEvery time.Duration // timeline resolution (default 100ms)
	drainFor    time.Duration // bound on the final Drain (default 1 minute)
	// timeouts are the per-call timeouts (zero: drillTimeouts).
	timeouts timeouts
	// store opens the protected run's store (nil: the gateway's in-memory
	// one); storeName says which, for the report.
	store     storeOpener
	storeName string
	// breakGateway, when set, spoils the protected run's gateway
	// configuration, for tests that show a check failing on a broken run.
	breakGateway func(*gateway.Config)
	// monitor, when set, shows the protected run's gateway while it
	// lasts (-listen): the gateway takes its breaker registry and
	// listener.
	monitor *monitor
}

// storeOpener opens a new store for the protected run labelled run (see
// runLabel); closeStore releases it once the gateway has stopped.
type storeOpener func(run string) (st store.Store, closeStore func() error, err error)

// States in the order reports list them.
var allStates = []gateway.State{gateway.Succeeded, gateway.Declined, gateway.Rejected, gateway.Pending, Unknown}

// paymentRecord is what became of one payment of the workload.
type paymentRecord struct {
	at      time.Duration // when it was due, from the start
	latency time.Duration // from due to answered: queueing included
	first   gateway.State // what Pay answered
	final   gateway.State // after the drain (the reconciler may move Pending)
	lookup  bool          // the gateway's Lookup agreed with final
}

// liveCounts are updated by the workers as payments are answered.
type liveCounts struct {
	answered [5]atomic.Int64 // by allStates
	inFlight atomic.Int64    // payments a worker is busy with
}

// sample is the state of a run at one moment of its timeline.
type sample struct {
	t        time.Duration
	answered [5]int // by allStates, cumulative, as Pay answered
	inFlight int    // workers busy with a payment
	breakers map[string]string
	outbox   int
	pending  int
}

// stateChange is a breaker's transition, as its listener saw it.
type stateChange struct {
	t              time.Duration
	name, from, to string
	reason         string
}

// runResult is everything a run measured, for the report.
type runResult struct {
	label     string
	protected bool
	oneBank   bool // a two-bank scenario run with the primary only
	scenario  Scenario
	payments  []paymentRecord
	samples   []sample
	changes   []stateChange
	calls     map[string]callStats
	injected  map[string]sim.InjectorStats
	bank      sim.BankStats // the primary's
	bank2     sim.BankStats // the second bank's, in a two-bank scenario
	// acquirers is each bank as the gateway saw it at the end of the
	// protected run: what it routed, refused and took over.
	acquirers  []gateway.AcquirerStatus
	logStats   sim.LogStats
	traffic    time.Duration // from the first payment due to the last answered
	drain      time.Duration // how long the final Drain took
	end        time.Duration // from the start to the end of the drain
	timeouts   timeouts
	drainErr   error
	outboxMax  int
	invariants []invariant
}

// runScenario starts fresh simulated services, runs the scenario's
// workload through the gateway (or the plain clients) and measures it.
func runScenario(ctx context.Context, cfg runConfig) (*runResult, error) {
	if err := cfg.scenario.validate(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", cfg.scenario.Name, err)
	}
	cfg.sampleEvery = or(cfg.sampleEvery, 100*time.Millisecond)
	cfg.drainFor = or(cfg.drainFor, time.Minute)
	cfg.timeouts = or(cfg.timeouts, drillTimeouts)
	names := cfg.scenario.services()
	svcs, err := startServices(cfg.seed, names)
	if err != nil {
		return nil, err
	}
	defer svcs.close()
	if err := svcs.log.SetFaults(cfg.scenario.logFaults()); err != nil {
		return nil, err
	}
	if err := openAccounts(svcs); err != nil {
		return nil, err
	}
	r := &runResult{label: runLabel(cfg.protected, cfg.oneBank), protected: cfg.protected, oneBank: cfg.oneBank,
		scenario: cfg.scenario, calls: map[string]callStats{}, injected: map[string]sim.InjectorStats{}, timeouts: cfg.timeouts}
	injectors := svcs.injectors
	epoch := injectors["bank"].Epoch() // the zero of every window offset
	transports := map[string]*countingTransport{}
	for _, name := range names {
		if err := injectors[name].Set(cfg.scenario.faults(name)); err != nil {
			return nil, err
		}
		transports[name] = newCountingTransport(epoch, cfg.scenario.windows(name), cfg.concurrency)
		defer transports[name].close()
	}
	client := func(name string) httpapi.ClientConfig {
		return httpapi.ClientConfig{HTTPClient: &http.Client{Transport: transports[name]}}
	}
	bank, err1 := httpapi.NewBankClient(svcs.urls["bank"], client("bank"))
	fx, err2 := httpapi.NewFXClient(svcs.urls["fx"], client("fx"))
	lg, err3 := httpapi.NewLogClient(svcs.urls["log"], client("log"))
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, err
	}
	var bank2 *httpapi.BankClient // the second bank, given to the gateway unless oneBank
	if svcs.bank2 != nil && !cfg.oneBank {
		if bank2, err = httpapi.NewBankClient(svcs.urls[secondBank], client(secondBank)); err != nil {
			return nil, err
		}
	}
	logger := cfg.logger.With("run", r.label)
	rec := &changeRecorder{epoch: epoch}
	var p payer = plainPayer{bank: bank, fx: fx, log: lg, timeouts: cfg.timeouts}
	var gw *gateway.Gateway
	if cfg.protected {
		st, closeStore, err := openStore(cfg.store, r.label)
		if err != nil {
			return nil, err
		}
		defer func() { _ = closeStore() }() // after gw.Close: deferred calls run last first
		listeners := []resilience.Listener{resilience.OnStateChange(rec.listen),
			stateChangesOnly(resilience.SlogListener(logger, resilience.SlogOptions{StateChangesOnly: true}))}
		if cfg.monitor != nil {
			listeners = append(listeners, cfg.monitor.listener())
		}
		gc, err := gatewayConfig(bank, fx, lg, cfg.timeouts, listeners...)
		if err != nil {
			return nil, err
		}
		if bank2 != nil {
			if gc, err = withSecondBank(gc, bank2); err != nil {
				return nil, err
			}
		}
		gc.Store, gc.Logger = st, logger
		if cfg.breakGateway != nil {
			cfg.breakGateway(&gc)
		}
		if cfg.monitor != nil {
			gc.Registry = cfg.monitor.registry
		}
		if gw, err = gateway.New(gc); err != nil {
			return nil, err
		}
		defer gw.Close()
		p = gatewayPayer{gw}
		if cfg.monitor != nil {
			defer cfg.monitor.attach(gw, budgetsOf(gc))()
		}
	}
	stopAnnounce := announceFaults(logger, epoch, cfg.scenario)
	defer stopAnnounce()

	jobs := workload(cfg.scenario, cfg.seed)
	r.payments = make([]paymentRecord, len(jobs))
	smp := &sampler{r: r, gw: gw, epoch: epoch, every: cfg.sampleEvery, progress: cfg.progress}
	smp.start()
	drive(ctx, p, jobs, r.payments, epoch, cfg.concurrency, &smp.live)
	r.traffic = time.Since(epoch)
	if gw != nil {
		start := time.Now()
		dctx, cancel := context.WithTimeout(ctx, cfg.drainFor)
		r.drainErr = gw.Drain(dctx)
		cancel()
		r.drain = time.Since(start)
	}
	r.end = time.Since(epoch)
	smp.stop()
	settle(r, gw, jobs)
	if gw != nil {
		r.acquirers = gw.Status(context.Background()).Acquirers
	}
	r.changes = rec.all()
	for _, name := range names {
		r.calls[name] = transports[name].snapshot()
		r.injected[name] = injectors[name].Stats()
	}
	r.bank, r.logStats = svcs.bank.Stats(), svcs.log.Stats()
	if svcs.bank2 != nil {
		r.bank2 = svcs.bank2.Stats()
	}
	r.invariants = checkInvariants(r, jobs, ledgerOf(svcs))
	return r, ctx.Err()
}

// drive sends each job at its due time to a pool of concurrency workers
// and waits for every answer. A job due while every worker is busy waits
// in the queue, and that wait counts in its latency, as a customer would
// feel it.
func drive(ctx context.Context, p payer, jobs []job, out []paymentRecord, epoch time.Time, concurrency int, live *liveCounts) {
	queue := make(chan job, len(jobs))
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				live.inFlight.Add(1)
				st := p.pay(ctx, j.req)
				live.inFlight.Add(-1)
				out[j.index] = paymentRecord{at: j.at, latency: time.Since(epoch) - j.at, first: st, final: st}
				live.answered[stateIndex(st)].Add(1)
			}
		}()
	}
	for _, j := range jobs {
		if d := time.Until(epoch.Add(j.at)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			break // the payments not sent are reported as never answered
		}
		queue <- j
	}
	close(queue)
	wg.Wait()
}

// settle reads the final state of every payment from the gateway, after
// the drain: the reconciler may have moved pending ones.
func settle(r *runResult, gw *gateway.Gateway, jobs []job) {
	for i := range r.payments {
		p := &r.payments[i]
		if p.first == "" {
			continue
		}
		if gw == nil {
			p.lookup = true
			continue
		}
		res, err := gw.Lookup(context.Background(), jobs[i].req.IdempotencyKey)
		p.final, p.lookup = res.State, err == nil && (p.first == gateway.Pending || res.State == p.first)
	}
}

func stateIndex(s gateway.State) int {
	for i, st := range allStates {
		if st == s {
			return i
		}
	}
	return len(allStates) - 1
}

// changeRecorder keeps every breaker transition with its time.
type changeRecorder struct {
	epoch time.Time

	mu      sync.Mutex // protects changes
	changes []stateChange
}

func (c *changeRecorder) listen(e resilience.Event) {
	if e.Kind != resilience.EventStateChange || e.Policy != "breaker" {
		return
	}
	c.mu.Lock()
	c.changes = append(c.changes, stateChange{t: e.Time.Sub(c.epoch), name: e.Name, from: e.From, to: e.To, reason: e.Reason})
	c.mu.Unlock()
}

func (c *changeRecorder) all() []stateChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]stateChange(nil), c.changes...)
}

// openStore opens the run's store with open, or lets the gateway make an
// in-memory one when open is nil.
func openStore(open storeOpener, run string) (store.Store, func() error, error) {
	if open == nil {
		return nil, func() error { return nil }, nil
	}
	return open(run)
}

// announceFaults logs each fault window as it starts and ends.
func announceFaults(logger *slog.Logger, epoch time.Time, s Scenario) (stop func()) {
	var timers []*time.Timer
	for _, f := range s.Faults {
		at := func(d time.Duration, level slog.Level, msg string) {
			timers = append(timers, time.AfterFunc(time.Until(epoch.Add(d)), func() {
				logger.Log(context.Background(), level, msg, "service", f.Service, "kind", f.Kind, "window", fmt.Sprintf("%s–%s", f.Start, f.End))
			}))
		}
		at(f.Start, slog.LevelWarn, "scenario: fault begins")
		at(f.End, slog.LevelInfo, "scenario: fault ends")
	}
	return func() {
		for _, t := range timers {
			t.Stop()
		}
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func or[V comparable](v, def V) V {
	var zero V
	if v == zero {
		return def
	}
	return v
}
