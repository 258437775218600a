package dst

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
)

// drainLimit bounds the drain of a world, on its virtual clock: with
// every dependency healed, a gateway that has not settled everything by
// then never will.
const drainLimit = 30 * time.Minute

// hooks break a world's gateway on purpose, from outside, for the tests
// that show each invariant can fail. The zero value breaks nothing.
type hooks struct {
	store   func(store.Store) store.Store           // wraps the store each gateway sees
	bank    func(*httpapi.BankClient) payments.Bank // replaces the gateway's bank client
	handler func(http.Handler) http.Handler         // wraps the gateway's HTTP handler
	// drainLimit replaces drainLimit when set.
	drainLimit time.Duration
	// storeBound builds the store with this MaxOutbox instead of the
	// world's, which the invariants still judge by.
	storeBound int
	// config changes each gateway's configuration last.
	config func(*gateway.Config)
}

// Run plays w in a testing/synctest bubble — the gateway, its three
// simulated dependencies (payments/sim, behind their fault injectors and
// the payments/httpapi handlers) and its clients (gateway.Client) in one
// process on virtual time, connected by in-process transports — and
// returns what happened. Run reports nothing to t: judge the outcome with
// [Check]. A world [World.Validate] refuses, or whose configuration the
// gateway refuses, gives an outcome with Err set. Call it from a test (t
// is that test's), outside any bubble; runs of one test follow one
// another.
func Run(t *testing.T, w World) *Outcome {
	return run(t, w, hooks{})
}

func run(t *testing.T, w World, h hooks) *Outcome {
	if err := w.Validate(); err != nil {
		return &Outcome{World: w, Err: err.Error()}
	}
	var out *Outcome
	synctest.Test(t, func(*testing.T) {
		r := newRunner(w, h)
		out = r.play()
	})
	return out
}

// runner plays one world. Its fields are set up before play and then read
// only, but for the ones under mu.
type runner struct {
	w       World
	cfg     settled
	hooks   hooks
	seq     *sequencer
	start   time.Time
	traffic []payment

	store            store.Store // the durable store, shared by every gateway
	bank             *sim.Bank
	bank2            *sim.Bank // nil in a one-bank world
	fx               *sim.FX
	log              *observedLog
	inj              map[string]*sim.Injector
	simLog           *sim.Log
	services         map[string]http.RoundTripper
	client           *gateway.Client
	clients          sync.WaitGroup
	clientsCtx       context.Context // ends the clients when the world is over
	endClients       context.CancelFunc
	gatewayTransport *gatewayTransport

	mu             sync.Mutex // protects the fields below
	inc            *incarnation
	gateways       int
	requests       int
	inFlight       int                // client requests in flight
	baseGoroutines int                // the process's goroutines before the world's
	http           map[string]httpAns // by client label
	out            *Outcome
}

type httpAns struct {
	status     int
	retryAfter string
}

func newRunner(w World, h hooks) *runner {
	r := &runner{w: w, cfg: w.Gateway.settle(), hooks: h, seq: newSequencer(), start: time.Now(),
		traffic: w.traffic(), inj: map[string]*sim.Injector{}, services: map[string]http.RoundTripper{},
		http: map[string]httpAns{}, out: &Outcome{World: w, Injected: map[string]sim.InjectorStats{}}}
	r.clientsCtx, r.endClients = context.WithCancel(context.Background())
	return r
}

// play runs the world from its first payment to its last record.
func (r *runner) play() *Outcome {
	r.baseGoroutines = goroutines()
	go r.seq.run()
	defer r.seq.stop()
	if err := r.setUp(); err != nil {
		r.out.Err = err.Error()
		r.endClients()
		return r.out
	}
	r.out.BalanceBefore = r.balances()
	for i, ev := range r.schedule() {
		time.Sleep(time.Until(r.start.Add(ev.at)))
		r.seq.enter(fmt.Sprintf("d/%07d", i))
		ev.do()
		if r.out.Err != "" {
			break
		}
	}
	r.finish()
	return r.out
}

// setUp starts the services and the first gateway.
func (r *runner) setUp() error {
	r.bank = sim.NewBank(sim.BankConfig{})
	r.fx = sim.NewFX(sim.FXConfig{})
	r.simLog = sim.NewLog(sim.LogConfig{Source: newPCG(r.w.Seed, streamLog)})
	r.log = &observedLog{Log: r.simLog, r: r}
	if err := openAccounts(r.bank, r.fx); err != nil {
		return err
	}
	streams := map[string]uint64{"bank": streamBankFaults, "fx": streamFXFaults, "log": streamLogFaults}
	if r.w.Bank2 != nil {
		r.bank2 = sim.NewBank(sim.BankConfig{})
		if err := openAccounts(r.bank2, r.fx); err != nil {
			return err
		}
		streams["bank2"] = streamBank2Faults
	}
	mem, err := store.NewMemory(store.Config{MaxOutbox: or(r.hooks.storeBound, r.w.Gateway.MaxOutbox)})
	if err != nil {
		return err
	}
	r.store = mem
	for dep, s := range streams {
		inj, err := sim.NewInjector(sim.InjectorConfig{Source: newPCG(r.w.Seed, s)})
		if err != nil {
			return err
		}
		r.inj[dep] = inj
	}
	if err := r.setFaults(0); err != nil {
		return err
	}
	bh, _ := httpapi.NewBankHandler(r.bank, httpapi.HandlerConfig{})
	fh, _ := httpapi.NewFXHandler(r.fx, httpapi.HandlerConfig{})
	lh, _ := httpapi.NewLogHandler(r.log, httpapi.HandlerConfig{})
	handlers := map[string]http.Handler{"bank": bh, "fx": fh, "log": lh}
	if r.bank2 != nil {
		handlers["bank2"], _ = httpapi.NewBankHandler(r.bank2, httpapi.HandlerConfig{})
	}
	for dep, h := range handlers {
		r.services[dep] = httpapi.HandlerTransport(r.inj[dep].Wrap(r.sequenced(dep, h)))
	}
	r.gatewayTransport = &gatewayTransport{r: r}
	if r.client, err = gateway.NewClient("http://gateway.dst.invalid", &http.Client{Transport: r.gatewayTransport}); err != nil {
		return err
	}
	return r.startGateway()
}

func openAccounts(bank *sim.Bank, fx *sim.FX) error {
	for _, c := range []struct {
		code string
		cur  payments.Currency
	}{{"usd", payments.USD}, {"eur", payments.EUR}} {
		for i := range accountsPerCurrency {
			balance := payments.New(openingBalance, c.cur)
			if i < brokeAccounts {
				balance = payments.New(0, c.cur)
			}
			if err := bank.Open(account(c.code, i), balance); err != nil {
				return err
			}
		}
	}
	return fx.SetRate(payments.USD, payments.EUR, usdEUR)
}

// balances sums every account of every bank per currency.
func (r *runner) balances() map[string]int64 {
	sum := map[string]int64{}
	for _, bank := range []*sim.Bank{r.bank, r.bank2} {
		if bank == nil {
			continue
		}
		for _, c := range []string{"usd", "eur"} {
			for i := range accountsPerCurrency {
				if m, ok := bank.Balance(account(c, i)); ok {
					sum[c] += m.Minor()
				}
			}
		}
	}
	return sum
}

// finish heals the world, lets the clients finish, drains the gateway,
// looks every payment up and collects the records.
func (r *runner) finish() {
	if r.out.Err == "" {
		r.heal()
		r.clients.Wait()
		r.drain()
		r.lookups()
	}
	r.endClients()
	r.clients.Wait()
	if inc := r.current(); inc != nil {
		r.sample()
		inc.gw.Close()
		inc.kill()
	}
	r.collect()
}

// heal ends every fault, and starts a gateway if none is up.
func (r *runner) heal() {
	for _, inj := range r.inj {
		_ = inj.Set(sim.Faults{})
	}
	_ = r.simLog.SetFaults(sim.LogFaults{})
	if r.current() == nil {
		if err := r.startGateway(); err != nil {
			r.out.Err = err.Error()
		}
	}
}

func (r *runner) drain() {
	inc := r.current()
	if inc == nil {
		return
	}
	limit := drainLimit
	if r.hooks.drainLimit > 0 {
		limit = r.hooks.drainLimit
	}
	ctx, cancel := context.WithTimeout(withLabel(context.Background(), "drain"), limit)
	defer cancel()
	if err := inc.gw.Drain(ctx); err != nil {
		r.out.DrainErr = err.Error()
	}
}

// lookups asks the gateway, through its HTTP client, for every payment
// key's result.
func (r *runner) lookups() {
	seen := map[string]bool{}
	for _, p := range r.traffic {
		if seen[p.req.IdempotencyKey] {
			continue
		}
		seen[p.req.IdempotencyKey] = true
		label := fmt.Sprintf("final/%06d", p.idx)
		res, err := r.client.Lookup(withLabel(context.Background(), label), p.req.IdempotencyKey)
		r.mu.Lock()
		r.out.Finals = append(r.out.Finals, r.answerOf(p.idx, 0, label, res, err))
		r.mu.Unlock()
	}
}

// newRequest numbers a request; it runs in a turn, so numbers follow the
// sequencer's order.
func (r *runner) newRequest() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	return fmt.Sprintf("%08d", r.requests)
}

func (r *runner) current() *incarnation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inc
}

func (r *runner) noteHTTP(label string, status int, retryAfter string) {
	r.mu.Lock()
	r.http[label] = httpAns{status: status, retryAfter: retryAfter}
	r.mu.Unlock()
}

// offset is the world's time now.
func (r *runner) offset() Duration { return Duration(time.Since(r.start)) }

// goroutines counts the goroutines of the process; the bubble's are all
// but the test's own, a constant.
func goroutines() int { return runtime.NumGoroutine() }

// discardLogger keeps the gateway's warnings out of the test output: the
// invariants judge the run, not its log.
var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))
