package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// runConfig is one run of a scenario, with or without protection.
type runConfig struct {
	scenario    Scenario
	seed        uint64
	concurrency int
	protected   bool
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
	// serve, when set, is given the gateway's status handler while the
	// protected run lasts, and the returned func is called at its end.
	serve func(http.Handler) func()
}

// storeOpener opens a store for the protected run; closeStore releases it
// once the gateway has stopped.
type storeOpener func() (st store.Store, closeStore func() error, err error)

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
	label      string
	protected  bool
	scenario   Scenario
	payments   []paymentRecord
	samples    []sample
	changes    []stateChange
	calls      map[string]callStats
	injected   map[string]sim.InjectorStats
	bank       sim.BankStats
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
	svcs, err := startServices(cfg.seed)
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
	r := &runResult{label: "unprotected", protected: cfg.protected, scenario: cfg.scenario,
		calls: map[string]callStats{}, injected: map[string]sim.InjectorStats{}, timeouts: cfg.timeouts}
	if cfg.protected {
		r.label = "protected"
	}
	injectors := svcs.injectors
	epoch := injectors["bank"].Epoch() // the zero of every window offset
	transports := map[string]*countingTransport{}
	for _, name := range services {
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
	logger := cfg.logger.With("run", r.label)
	rec := &changeRecorder{epoch: epoch}
	var p payer = plainPayer{bank: bank, fx: fx, log: lg, timeouts: cfg.timeouts}
	var gw *gateway.Gateway
	if cfg.protected {
		st, closeStore, err := openStore(cfg.store)
		if err != nil {
			return nil, err
		}
		defer func() { _ = closeStore() }() // after gw.Close: deferred calls run last first
		gc, err := gatewayConfig(bank, fx, lg, cfg.timeouts, resilience.OnStateChange(rec.listen),
			stateChangesOnly(resilience.SlogListener(logger, resilience.SlogOptions{StateChangesOnly: true})))
		if err != nil {
			return nil, err
		}
		gc.Store, gc.Logger = st, logger
		if gw, err = gateway.New(gc); err != nil {
			return nil, err
		}
		defer gw.Close()
		p = gatewayPayer{gw}
		if cfg.serve != nil {
			defer cfg.serve(gw.Handler())()
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
	r.changes = rec.all()
	for _, name := range services {
		r.calls[name] = transports[name].snapshot()
		r.injected[name] = injectors[name].Stats()
	}
	r.bank, r.logStats = svcs.bank.Stats(), svcs.log.Stats()
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
func openStore(open storeOpener) (store.Store, func() error, error) {
	if open == nil {
		return nil, func() error { return nil }, nil
	}
	return open()
}

// gatewayConfig is the protected setup. Every policy keeps its default but
// these: the per-call timeouts shared with the unprotected run; two
// attempts per transfer, within a retry budget of 10% of the last two
// seconds' transfers, because retrying into a bank that hangs keeps
// workers waiting before the breaker can count the failures; a bank quota
// well above the drill's rate; health probes twice a second, so that a dead
// dependency is known within a second. The probes' timeout is left to the
// gateway, which derives it from each dependency's call timeout: a probe
// never judges a dependency by a stricter bar than its calls.
func gatewayConfig(bank payments.Bank, fx payments.FX, log payments.Log, t timeouts, listeners ...resilience.Listener) (gateway.Config, error) {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 0.1, MinPerSecond: 5, Window: 2 * time.Second})
	if err != nil {
		return gateway.Config{}, err
	}
	return gateway.Config{Bank: bank, FX: fx, Log: log, Listeners: listeners,
		BankPolicy: gateway.BankPolicy{Timeout: t.bank, Attempts: 2, Budget: budget,
			Rate: ratelimit.PerSecond(2000), Burst: 200},
		FXPolicy:          gateway.FXPolicy{Timeout: t.fx},
		LogPolicy:         gateway.LogPolicy{Timeout: t.log},
		Health:            gateway.HealthPolicy{Interval: healthInterval},
		ReconcileInterval: 250 * time.Millisecond}, nil
}

// healthInterval is how often the drill's gateway probes each dependency.
const healthInterval = 500 * time.Millisecond

// stateChangesOnly passes state changes (breakers, health) to l and
// nothing else: the drill's log is about what changed, not about every
// retry. The snapshot attached to each event is dropped, to keep a line
// short.
func stateChangesOnly(l resilience.Listener) resilience.Listener {
	if l.Func == nil {
		return l
	}
	return resilience.OnKinds(func(e resilience.Event) {
		e.Detail = nil
		l.Func(e)
	}, resilience.EventStateChange)
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
