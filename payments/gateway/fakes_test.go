package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// fault is what the fake bank does with one call.
type fault int

const (
	pass   fault = iota
	refuse       // fails before doing anything (like a 503): not processed
	lose         // commits, then the reply is lost: outcome unknown
	hang         // never answers until the caller gives up
)

var (
	errRefused = errors.New("bank: 503 overloaded")
	errLost    = errors.New("bank: connection reset after sending")
	errStore   = errors.New("store: disk I/O error")
)

// flakyBank is the simulator with a switchable fault on Transfer and
// Status, and an optional delay on every call (Health included, when
// probe is set).
type flakyBank struct {
	*sim.Bank
	mu      sync.Mutex
	mode    fault
	delay   time.Duration
	entered int // Transfer calls received
}

func (f *flakyBank) set(m fault) { f.mu.Lock(); f.mode = m; f.mu.Unlock() }
func (f *flakyBank) enter() (fault, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entered++
	return f.mode, f.delay
}

func (f *flakyBank) transfers() int { f.mu.Lock(); defer f.mu.Unlock(); return f.entered }

func (f *flakyBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	mode, delay := f.enter()
	if err := sleep(ctx, delay); err != nil {
		return payments.Receipt{}, err
	}
	switch mode {
	case refuse:
		return payments.Receipt{}, errRefused
	case lose:
		_, _ = f.Bank.Transfer(ctx, req)
		return payments.Receipt{}, errLost
	case hang:
		<-ctx.Done()
		return payments.Receipt{}, ctx.Err()
	}
	return f.Bank.Transfer(ctx, req)
}

func (f *flakyBank) Status(ctx context.Context, key string) (payments.TransferStatus, error) {
	f.mu.Lock()
	m, delay := f.mode, f.delay
	f.mu.Unlock()
	if err := sleep(ctx, delay); err != nil {
		return payments.TransferStatus{}, err
	}
	if m == refuse || m == hang {
		return payments.TransferStatus{}, errRefused
	}
	return f.Bank.Status(ctx, key)
}

// sleep waits d (fake time in a synctest bubble) or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// probedBank is a flakyBank with a health endpoint that answers as slowly
// as the bank and fails while probeDown is set.
type probedBank struct {
	*flakyBank
	probeDown bool // set before the gateway starts, or under flakyBank.mu
}

func (p *probedBank) Health(ctx context.Context) error {
	p.mu.Lock()
	down, delay := p.probeDown, p.delay
	p.mu.Unlock()
	if err := sleep(ctx, delay); err != nil {
		return err
	}
	if down {
		return errRefused
	}
	return nil
}

func (p *probedBank) setProbeDown(d bool) { p.mu.Lock(); p.probeDown = d; p.mu.Unlock() }

// flakyFX fails every call while down.
type flakyFX struct {
	*sim.FX
	mu   sync.Mutex
	down bool
}

func (f *flakyFX) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }
func (f *flakyFX) Quote(ctx context.Context, from, to payments.Currency) (payments.Quote, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return payments.Quote{}, errors.New("fx: 500")
	}
	return f.FX.Quote(ctx, from, to)
}

// flakyLog fails every batch, whole, while down, and counts batches.
type flakyLog struct {
	*sim.Log
	mu      sync.Mutex
	down    bool
	batches []int // sizes of the batches received
}

func (f *flakyLog) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }
func (f *flakyLog) AppendBatch(ctx context.Context, entries []payments.Entry) ([]error, error) {
	f.mu.Lock()
	down := f.down
	f.batches = append(f.batches, len(entries))
	f.mu.Unlock()
	if down {
		return nil, errors.New("log: 500")
	}
	return f.Log.AppendBatch(ctx, entries)
}

func (f *flakyLog) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...)
}

// faultyStore fails the named methods with errStore while told to.
type faultyStore struct {
	store.Store
	mu   sync.Mutex
	fail map[string]bool
}

func (f *faultyStore) set(method string, failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = failing
}

func (f *faultyStore) failing(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[method] {
		return errStore
	}
	return nil
}

func (f *faultyStore) Claim(ctx context.Context, req payments.PaymentRequest, l store.Lease) (store.ClaimResult, error) {
	if err := f.failing("Claim"); err != nil {
		return store.ClaimResult{}, err
	}
	return f.Store.Claim(ctx, req, l)
}

func (f *faultyStore) Finish(ctx context.Context, key, token string, r store.Result, e *payments.Entry) error {
	if err := f.failing("Finish"); err != nil {
		return err
	}
	return f.Store.Finish(ctx, key, token, r, e)
}

func (f *faultyStore) MarkStarted(ctx context.Context, key, token, bank string) error {
	if err := f.failing("MarkStarted"); err != nil {
		return err
	}
	return f.Store.MarkStarted(ctx, key, token, bank)
}

func (f *faultyStore) Postpone(ctx context.Context, key, token string, next time.Time, wait time.Duration) error {
	if err := f.failing("Postpone"); err != nil {
		return err
	}
	return f.Store.Postpone(ctx, key, token, next, wait)
}

type world struct {
	bank  *flakyBank
	fx    *flakyFX
	log   *flakyLog
	mem   *store.Memory
	store *faultyStore
	gw    *gateway.Gateway
	cfg   gateway.Config // as given to New, for a restart
}

const (
	alice = payments.AccountID("acct_alice001")
	bob   = payments.AccountID("acct_bob00001")
	carol = payments.AccountID("acct_carol001") // poor
)

type testingT interface {
	require.TestingT
	Helper()
}

// newWorld builds a gateway over in-process fakes and a memory store, on
// the real clock (fake inside a synctest bubble). tweak may adjust the
// config.
func newWorld(t testingT, tweak func(*gateway.Config)) *world {
	t.Helper()
	mem, err := store.NewMemory(store.Config{})
	require.NoError(t, err)
	w := &world{bank: newFlakyBank(t), fx: &flakyFX{FX: sim.NewFX(sim.FXConfig{})},
		log: &flakyLog{Log: sim.NewLog(sim.LogConfig{})}, mem: mem, store: &faultyStore{Store: mem, fail: map[string]bool{}}}
	require.NoError(t, w.fx.SetRate(payments.EUR, payments.USD, payments.MustParseRate("1.0842")))
	w.cfg = gateway.Config{Bank: w.bank, FX: w.fx, Log: w.log, Store: w.store, Instance: "gw-test",
		Logger:       slog.New(slog.DiscardHandler),
		NotProcessed: func(err error) bool { return errors.Is(err, errRefused) || resilience.IsRejected(err) }}
	if tweak != nil {
		tweak(&w.cfg)
	}
	w.gw, err = gateway.New(w.cfg)
	require.NoError(t, err)
	return w
}

// newFlakyBank is a simulated bank, passing every call, holding the
// accounts of alice (rich), bob (empty) and carol (poor).
func newFlakyBank(t testingT) *flakyBank {
	t.Helper()
	b := &flakyBank{Bank: sim.NewBank(sim.BankConfig{})}
	require.NoError(t, b.Open(alice, payments.MustParseMoney("1000.00 USD")))
	require.NoError(t, b.Open(bob, payments.MustParseMoney("0.00 USD")))
	require.NoError(t, b.Open(carol, payments.MustParseMoney("1.00 USD")))
	return b
}

func pay(key, amount string) payments.PaymentRequest {
	return payments.PaymentRequest{IdempotencyKey: key, Payer: alice, Payee: bob, Amount: payments.MustParseMoney(amount)}
}

// lookup returns the stored result of key, failing the test when there is
// none.
func (w *world) lookup(t testingT, key string) gateway.Result {
	t.Helper()
	r, err := w.gw.Lookup(context.Background(), key)
	require.NoError(t, err, key)
	return r
}

// seedSucceeded records n succeeded payments, keys prefix-0000…, with
// their log entries queued, as a gateway named owner would have, and
// returns their keys.
func seedSucceeded(t testingT, s store.Store, owner, prefix string, n int, at time.Time) []string {
	t.Helper()
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		req := payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("%s-%05d", prefix, i), Payer: alice, Payee: bob,
			Amount: payments.New(int64(100+i), payments.USD)}
		keys[i] = req.IdempotencyKey
		cr, err := s.Claim(ctx, req, store.Lease{Owner: owner, Now: at, TTL: time.Minute})
		require.NoError(t, err)
		tok := cr.Record.Claim.Token
		require.NoError(t, s.MarkStarted(ctx, req.IdempotencyKey, tok, "bank"))
		e := payments.Entry{PaymentID: req.IdempotencyKey, TransferID: "tr-" + req.IdempotencyKey, Payer: req.Payer,
			Payee: req.Payee, Amount: req.Amount, At: at}
		require.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok,
			store.Result{State: store.Succeeded, Reason: "seeded", TransferID: e.TransferID}, &e))
	}
	return keys
}

func (f *faultyStore) MarkRefused(ctx context.Context, key, token, bank string) error {
	if err := f.failing("MarkRefused"); err != nil {
		return err
	}
	return f.Store.MarkRefused(ctx, key, token, bank)
}
