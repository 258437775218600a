package gateway_test

import (
	"context"
	"errors"
	"sync"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/require"
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
)

// flakyBank is the simulator with a switchable fault on Transfer and Status.
type flakyBank struct {
	*sim.Bank
	mu      sync.Mutex
	mode    fault
	entered int // Transfer calls received
}

func (f *flakyBank) set(m fault) { f.mu.Lock(); f.mode = m; f.mu.Unlock() }
func (f *flakyBank) current() fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entered++
	return f.mode
}

func (f *flakyBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	switch f.current() {
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
	m := f.mode
	f.mu.Unlock()
	if m == refuse || m == hang {
		return payments.TransferStatus{}, errRefused
	}
	return f.Bank.Status(ctx, key)
}

// flakyFX and flakyLog fail every call while down.
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

type flakyLog struct {
	*sim.Log
	mu   sync.Mutex
	down bool
}

func (f *flakyLog) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }
func (f *flakyLog) Append(ctx context.Context, e payments.Entry) error {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return errors.New("log: 500")
	}
	return f.Log.Append(ctx, e)
}

type world struct {
	bank *flakyBank
	fx   *flakyFX
	log  *flakyLog
	gw   *gateway.Gateway
}

const (
	alice = payments.AccountID("acct_alice001")
	bob   = payments.AccountID("acct_bob00001")
	carol = payments.AccountID("acct_carol001") // poor
)

// newWorld builds a gateway over in-process fakes on the real clock (fake
// inside a synctest bubble). tweak may adjust the config.
func newWorld(t interface {
	require.TestingT
	Helper()
}, tweak func(*gateway.Config)) *world {
	t.Helper()
	w := &world{bank: &flakyBank{Bank: sim.NewBank(sim.BankConfig{})},
		fx: &flakyFX{FX: sim.NewFX(sim.FXConfig{})}, log: &flakyLog{Log: sim.NewLog()}}
	require.NoError(t, w.bank.Open(alice, payments.MustParseMoney("1000.00 USD")))
	require.NoError(t, w.bank.Open(bob, payments.MustParseMoney("0.00 USD")))
	require.NoError(t, w.bank.Open(carol, payments.MustParseMoney("1.00 USD")))
	require.NoError(t, w.fx.SetRate(payments.EUR, payments.USD, payments.MustParseRate("1.0842")))
	cfg := gateway.Config{Bank: w.bank, FX: w.fx, Log: w.log,
		NotProcessed: func(err error) bool { return errors.Is(err, errRefused) || resilience.IsRejected(err) }}
	if tweak != nil {
		tweak(&cfg)
	}
	gw, err := gateway.New(cfg)
	require.NoError(t, err)
	w.gw = gw
	return w
}

func pay(key, amount string) payments.PaymentRequest {
	return payments.PaymentRequest{IdempotencyKey: key, Payer: alice, Payee: bob, Amount: payments.MustParseMoney(amount)}
}
