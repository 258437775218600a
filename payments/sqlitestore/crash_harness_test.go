package sqlitestore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// crashConfig shapes one run of the crash harness.
type crashConfig struct {
	Seed    uint64 // the kill schedule's
	Kills   int
	Workers int
	// Memory gives the child an in-memory store, lost at each kill: the
	// deliberately broken gateway the checker must catch.
	Memory bool
	// MaxOutbox bounds the child's outbox, small enough for the log's
	// outage to fill it.
	MaxOutbox int
}

// crashFigures counts what a run did. Every field is updated atomically.
type crashFigures struct {
	Kills, KillsAtStartup atomic.Int64 // KillsAtStartup: before the child served
	Payments, Succeeded   atomic.Int64 // keys sent; keys answered succeeded
	Declined              atomic.Int64
	Rejected, StoreFull   atomic.Int64 // rejections retried; of them, by a full outbox
	Pending, Replays      atomic.Int64 // pending answers retried; answers from the ledger
	ConnErrors            atomic.Int64 // no answer (the child killed or down), retried
}

func (f *crashFigures) String() string {
	return fmt.Sprintf("kills %d (%d at startup), payments %d, succeeded %d, declined %d, "+
		"rejected-then-retried %d (store full %d), pending-then-retried %d, replays %d, no answer %d",
		f.Kills.Load(), f.KillsAtStartup.Load(), f.Payments.Load(), f.Succeeded.Load(), f.Declined.Load(),
		f.Rejected.Load(), f.StoreFull.Load(), f.Pending.Load(), f.Replays.Load(), f.ConnErrors.Load())
}

// harness runs payers against a child gateway that it kills and restarts,
// on simulated services that outlive every child.
type harness struct {
	t       *testing.T
	cfg     crashConfig
	svc     *sim.Services
	bin     string
	logPath string // the children's stderr
	child   childConfig
	hc      *http.Client
	gw      atomic.Pointer[gateway.Client] // the serving child's; nil while none serves
	figures crashFigures

	mu     sync.Mutex // protects the fields below
	keys   []string
	acked  map[string]string
	living *child
}

const payee = payments.AccountID("acct_merchant0001")

func payerOf(w int) payments.AccountID { return payments.AccountID(fmt.Sprintf("acct_payer%08d", w)) }

func newHarness(t *testing.T, bin string, cfg crashConfig) *harness {
	svc, err := sim.Start(sim.ServicesConfig{Seed: cfg.Seed})
	require.NoError(t, err)
	t.Cleanup(svc.Close)
	require.NoError(t, svc.Bank.Open(payee, payments.New(0, payments.USD)))
	for w := range cfg.Workers {
		require.NoError(t, svc.Bank.Open(payerOf(w), payments.New(1_000_000_000_00, payments.USD)))
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Workers}
	t.Cleanup(tr.CloseIdleConnections)
	h := &harness{t: t, cfg: cfg, svc: svc, bin: bin, logPath: filepath.Join(t.TempDir(), "children.log"),
		child: childConfig{Bank: svc.BankURL, FX: svc.FXURL, Log: svc.LogURL, MaxOutbox: cfg.MaxOutbox},
		hc:    &http.Client{Transport: tr, Timeout: 10 * time.Second}, acked: map[string]string{}}
	if !cfg.Memory {
		h.child.DB = filepath.Join(t.TempDir(), "gateway.db")
	}
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.living != nil {
			h.living.kill()
		}
	})
	return h
}

// run pays with cfg.Workers payers while killing the child cfg.Kills
// times, then stops the faults, lets every payer finish its payment, drains
// the last child and returns the run's records.
func (h *harness) run() crashRecords {
	t := h.t
	require.NoError(t, h.svc.Log.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(30)}))
	h.restart()
	traffic, stopTraffic := context.WithCancel(t.Context())
	hard, stopHard := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { // also when a require below ends the test: no payer outlives it
		stopTraffic()
		stopHard()
		wg.Wait()
	}()
	for w := range h.cfg.Workers {
		wg.Go(func() { h.payer(traffic, hard, w) })
	}
	h.killLoop()
	require.NoError(t, h.svc.Log.SetFaults(sim.LogFaults{}))
	stopTraffic()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select { // a bound against a wedged payer, not a timing assertion
	case <-finished:
	case <-time.After(2 * time.Minute):
		stopHard()
		<-finished
		t.Errorf("payers still retrying after 2 minutes")
	}
	return h.records(h.drain())
}

// killLoop kills the child cfg.Kills times at moments drawn from the seed
// and restarts it on the same store, holding the log down for a fifth of
// the kills so that the outbox fills and claims are refused.
func (h *harness) killLoop() {
	rng := rand.New(rand.NewPCG(h.cfg.Seed, 0x6b696c6c))
	for k := range h.cfg.Kills {
		switch k {
		case 2 * h.cfg.Kills / 5:
			require.NoError(h.t, h.svc.Log.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(100)}))
		case 3 * h.cfg.Kills / 5:
			require.NoError(h.t, h.svc.Log.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(30)}))
		}
		atStartup := rng.IntN(10) == 0 // a tenth of the kills land while the child recovers
		if !atStartup {
			h.serving()
		}
		// Real processes and sockets: no fake clock reaches them, and
		// nothing here is timed, only the moment of the kill drawn.
		time.Sleep(20*time.Millisecond + time.Duration(rng.Int64N(int64(280*time.Millisecond))))
		h.restart()
	}
	h.serving()
}

// restart kills the living child, if any, and starts a new one on the same
// store.
func (h *harness) restart() {
	h.gw.Store(nil)
	h.mu.Lock()
	old := h.living
	h.mu.Unlock()
	if old != nil {
		select {
		case url := <-old.ready:
			old.ready <- url
		default:
			h.figures.KillsAtStartup.Add(1) // killed before it served
		}
		old.kill()
		h.figures.Kills.Add(1)
	}
	c, err := startChild(h.bin, h.logPath, h.child)
	require.NoError(h.t, err)
	h.mu.Lock()
	h.living = c
	h.mu.Unlock()
}

// serving waits until the living child serves and hands its client to the
// payers.
func (h *harness) serving() {
	h.mu.Lock()
	c := h.living
	h.mu.Unlock()
	url, err := c.waitReady(time.Minute)
	require.NoError(h.t, err, "children's log:\n%s", logTail(h.logPath, 4000))
	gc, err := gateway.NewClient(url, h.hc)
	require.NoError(h.t, err)
	h.gw.Store(gc)
}

// payer pays new keys until traffic ends, each until its answer is final:
// a key answered rejected or pending, or not answered, is sent again
// later. Once hard ends it gives up on its key.
func (h *harness) payer(traffic, hard context.Context, w int) {
	for n := 0; traffic.Err() == nil; n++ {
		req := payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("w%02d-%06d", w, n), Payer: payerOf(w), Payee: payee,
			Amount: payments.New(int64(100+n%900), payments.USD)}
		h.mu.Lock()
		h.keys = append(h.keys, req.IdempotencyKey)
		h.mu.Unlock()
		h.figures.Payments.Add(1)
		h.settle(hard, req)
	}
}

func (h *harness) settle(ctx context.Context, req payments.PaymentRequest) {
	for ctx.Err() == nil {
		wait := h.attempt(ctx, req)
		if wait == 0 {
			return
		}
		pause(ctx, wait)
	}
}

// attempt sends req once and returns how long to wait before sending it
// again; 0 when its answer is final.
func (h *harness) attempt(ctx context.Context, req payments.PaymentRequest) time.Duration {
	gc := h.gw.Load()
	if gc == nil {
		return 10 * time.Millisecond
	}
	res, err := gc.Pay(ctx, req)
	if res.Replayed {
		h.figures.Replays.Add(1)
	}
	switch {
	case err != nil:
		h.figures.ConnErrors.Add(1)
		return 10 * time.Millisecond
	case res.State == gateway.Succeeded:
		h.figures.Succeeded.Add(1)
		h.mu.Lock()
		h.acked[req.IdempotencyKey] = res.TransferID
		h.mu.Unlock()
		return 0
	case res.State == gateway.Declined:
		h.figures.Declined.Add(1)
		return 0
	case res.State == gateway.Rejected:
		h.figures.Rejected.Add(1)
		if res.Err != nil && strings.Contains(res.Err.Error(), "store: full") {
			h.figures.StoreFull.Add(1)
		}
		return min(max(res.RetryAfter, 10*time.Millisecond), 100*time.Millisecond)
	}
	h.figures.Pending.Add(1)
	return 30 * time.Millisecond
}

// pause waits d or until ctx ends. Over real processes and sockets there
// is no fake clock to advance; nothing is timed.
func pause(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// drain polls the last child's status until nothing is pending, open or
// queued, for at most a bound, and returns the last status read.
func (h *harness) drain() drainedStatus {
	h.mu.Lock()
	c := h.living
	h.mu.Unlock()
	url, err := c.waitReady(time.Minute)
	require.NoError(h.t, err)
	var st drainedStatus
	for range 1200 { // 1200 polls 50ms apart: a bound against a wedged gateway
		st, err = h.status(url)
		if err == nil && st.drained() {
			break
		}
		pause(h.t.Context(), 50*time.Millisecond)
	}
	require.NoError(h.t, err)
	return st
}

func (h *harness) status(url string) (drainedStatus, error) {
	var st drainedStatus
	resp, err := h.hc.Get(url + gateway.PathStatus)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// records gathers the run's records: the gateway's final state of every
// key sent (looked up through the drained child), and the bank's and the
// log's own.
func (h *harness) records(drained drainedStatus) crashRecords {
	gc := h.gw.Load()
	require.NotNil(h.t, gc)
	h.mu.Lock()
	keys := append([]string(nil), h.keys...)
	r := crashRecords{Acked: h.acked, Final: make(map[string]gateway.State, len(keys)), Drained: drained}
	h.mu.Unlock()
	var mu sync.Mutex // protects r.Final and errs
	var errs []error
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(keys)); i = next.Add(1) - 1 {
				res, err := gc.Lookup(h.t.Context(), keys[i])
				mu.Lock()
				switch {
				case errors.Is(err, gateway.ErrUnknownPayment):
					r.Final[keys[i]] = ""
				case err != nil:
					errs = append(errs, err)
				default:
					r.Final[keys[i]] = res.State
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(h.t, errors.Join(errs...), "looking the payments up")
	r.Transfers, r.DoubleCharges = h.svc.Bank.Transfers(), h.svc.Bank.DoubleCharges()
	r.Logged, r.LogConflicts = h.svc.Log.Entries(), h.svc.Log.Stats().Conflicts
	return r
}
