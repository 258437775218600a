package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
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
	progress    io.Writer     // one line per second; nil: none
	sampleEvery time.Duration // timeline resolution (default 100ms)
	drainFor    time.Duration // bound on the final Drain (default 1 minute)
	// serve, when set, is given the gateway's status handler while the
	// protected run lasts, and the returned func is called at its end.
	serve func(http.Handler) func()
}

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
	drainErr   error
	outboxMax  int
	invariants []invariant
}

// runScenario starts fresh simulated services, runs the scenario's
// workload through the gateway (or the plain clients) and measures it.
func runScenario(ctx context.Context, cfg runConfig) (*runResult, error) {
	cfg.sampleEvery = or(cfg.sampleEvery, 100*time.Millisecond)
	cfg.drainFor = or(cfg.drainFor, time.Minute)
	svcs, err := startServices(cfg.seed)
	if err != nil {
		return nil, err
	}
	defer svcs.close()
	if err := openAccounts(svcs); err != nil {
		return nil, err
	}
	r := &runResult{label: "unprotected", protected: cfg.protected, scenario: cfg.scenario,
		calls: map[string]callStats{}, injected: map[string]sim.InjectorStats{}}
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
	var p payer = plainPayer{bank: bank, fx: fx, log: lg}
	var gw *gateway.Gateway
	if cfg.protected {
		gc, err := gatewayConfig(bank, fx, lg, rec.listen, stateChangesOnly(resilience.SlogListener(logger, resilience.SlogOptions{})))
		if err != nil {
			return nil, err
		}
		if gw, err = gateway.New(gc); err != nil {
			return nil, err
		}
		defer gw.Close()
		p = gatewayPayer{gw}
		if cfg.serve != nil {
			defer cfg.serve(gw.StatusHandler())()
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
	smp.stop()
	settle(r, gw, jobs)
	r.changes = rec.all()
	for _, name := range services {
		r.calls[name] = transports[name].snapshot()
		r.injected[name] = injectors[name].Stats()
	}
	r.bank, r.logStats = svcs.bank.Stats(), svcs.log.Stats()
	r.invariants = checkInvariants(r, jobs, svcs)
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
		res, ok := gw.Lookup(jobs[i].req.IdempotencyKey)
		p.final, p.lookup = res.State, ok && (p.first == gateway.Pending || res.State == p.first)
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

// gatewayConfig is the protected setup. Every policy keeps its default but
// these: the per-call timeouts shared with the unprotected run; two
// attempts per transfer, within a retry budget of 10% of the last two
// seconds' transfers, because retrying into a bank that hangs keeps
// workers waiting before the breaker can count the failures; a bank quota
// well above the drill's rate; health probes twice a second, so that a dead
// dependency is known within a second.
func gatewayConfig(bank payments.Bank, fx payments.FX, log payments.Log, listeners ...resilience.Listener) (gateway.Config, error) {
	budget, err := backoff.NewBudget(backoff.BudgetConfig{Ratio: 0.1, MinPerSecond: 5, Window: 2 * time.Second})
	if err != nil {
		return gateway.Config{}, err
	}
	return gateway.Config{Bank: bank, FX: fx, Log: log, Listeners: listeners,
		BankPolicy: gateway.BankPolicy{Timeout: bankTimeout, Attempts: 2, Budget: budget,
			Rate: ratelimit.PerSecond(2000), Burst: 200},
		FXPolicy:          gateway.FXPolicy{Timeout: fxTimeout},
		LogPolicy:         gateway.LogPolicy{Timeout: logTimeout},
		Health:            gateway.HealthPolicy{Interval: 500 * time.Millisecond, Timeout: 100 * time.Millisecond},
		ReconcileInterval: 250 * time.Millisecond}, nil
}

// stateChangesOnly passes state changes (breakers, health) to l and drops
// the rest: the drill's log is about what changed, not about every retry.
// The snapshot attached to each event is dropped too, to keep a line short.
func stateChangesOnly(l resilience.Listener) resilience.Listener {
	return func(e resilience.Event) {
		if e.Kind == resilience.EventStateChange {
			e.Detail = nil
			l(e)
		}
	}
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
