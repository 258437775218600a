package gateway_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The chaos schedule, as offsets from the start of the run.
var chaosFaults = struct{ bank, fx, log sim.Faults }{
	bank: sim.Faults{ErrorRate: sim.Percent(5), LostReplyRate: sim.Percent(5), Latency: sim.Latency{Fixed: time.Millisecond, Jitter: time.Millisecond},
		Windows: []sim.Window{
			{Kind: sim.Outage, Start: 600 * time.Millisecond, End: 1200 * time.Millisecond},
			{Kind: sim.Slowdown, Start: 1500 * time.Millisecond, End: 1900 * time.Millisecond, Extra: 400 * time.Millisecond},
		}},
	fx:  sim.Faults{Windows: []sim.Window{{Kind: sim.Slowdown, Start: 300 * time.Millisecond, End: 900 * time.Millisecond, Extra: 300 * time.Millisecond}}},
	log: sim.Faults{Windows: []sim.Window{{Kind: sim.Outage, Start: 400 * time.Millisecond, End: 1600 * time.Millisecond}}},
}

const chaosRun = 2200 * time.Millisecond

// TestChaosOverLoopbackHTTP drives thousands of payments from concurrent
// goroutines through the gateway and real HTTP clients against the
// simulated services while they fail, slow down and recover; then it lets
// the reconciler and the outbox finish and checks that no payment was lost
// or debited twice and that every succeeded payment is logged exactly once.
//
// It runs on real time (real sockets cannot run in a synctest bubble) but
// asserts nothing about timing: only invariants that hold for any schedule.
func TestChaosOverLoopbackHTTP(t *testing.T) {
	baseline := runtime.NumGoroutine()
	svc, err := sim.Start(sim.ServicesConfig{Seed: 7})
	require.NoError(t, err)
	accounts := openChaosAccounts(t, svc.Bank)
	require.NoError(t, svc.FX.SetRate(payments.EUR, payments.USD, payments.MustParseRate("1.0842")))
	require.NoError(t, svc.BankFaults.Set(chaosFaults.bank))
	require.NoError(t, svc.FXFaults.Set(chaosFaults.fx))
	require.NoError(t, svc.LogFaults.Set(chaosFaults.log))
	// Beside its outage, the log fails 30% of appends, entry by entry, for
	// the whole run.
	require.NoError(t, svc.Log.SetFaults(sim.LogFaults{ErrorRate: sim.Percent(30)}))
	totalBefore := sumBalances(svc.Bank, accounts)

	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	gw := newChaosGateway(t, svc, &http.Client{Transport: transport})

	keys := runChaosPayers(t, gw, accounts, 32, chaosRun)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, gw.Drain(ctx), "every payment settles and the outbox drains once the faults are over")

	w := &world{bank: &flakyBank{Bank: svc.Bank}, log: &flakyLog{Log: svc.Log}, gw: gw}
	checkLedgerAgainstBank(t, w, keys)
	counts := map[gateway.State]int{}
	for _, k := range keys {
		r, err := gw.Lookup(context.Background(), k)
		require.NoError(t, err, k)
		require.NotEqual(t, gateway.Pending, r.State, "%s still pending after Drain", k)
		counts[r.State]++
	}
	assert.Len(t, svc.Log.Entries(), counts[gateway.Succeeded], "every succeeded payment is logged exactly once")
	assert.Equal(t, totalBefore, sumBalances(svc.Bank, accounts), "money is only moved, never made or lost")
	bs := svc.BankFaults.Stats()
	assert.Positive(t, bs.LostReplies, "the schedule really lost replies")
	assert.Positive(t, bs.Outages, "the schedule really had an outage")
	assert.Positive(t, svc.LogFaults.Stats().Outages, "the log really was down")
	assert.Positive(t, svc.Log.Stats().Faults, "the log really failed appends")
	assert.Greater(t, len(keys), 1000, "over a thousand payments")
	t.Logf("%d payments: %v; bank %+v; log %+v", len(keys), counts, bs, svc.Log.Stats())

	gw.Close()
	svc.Close()
	transport.CloseIdleConnections()
	waitForGoroutines(t, baseline)
}

func newChaosGateway(t *testing.T, svc *sim.Services, hc *http.Client) *gateway.Gateway {
	t.Helper()
	cc := httpapi.ClientConfig{HTTPClient: hc}
	bank, err := httpapi.NewBankClient(svc.BankURL, cc)
	require.NoError(t, err)
	fx, err := httpapi.NewFXClient(svc.FXURL, cc)
	require.NoError(t, err)
	log, err := httpapi.NewLogClient(svc.LogURL, cc)
	require.NoError(t, err)
	short := breaker.Config{OpenWait: 200 * time.Millisecond}
	gw, err := gateway.New(gateway.Config{Bank: bank, FX: fx, Log: log,
		BankPolicy: gateway.BankPolicy{Rate: ratelimit.PerSecond(20000), Burst: 500, Breaker: short, StatusBreaker: short,
			Attempts: 3, Backoff: backoff.Constant(10 * time.Millisecond), Timeout: 250 * time.Millisecond},
		FXPolicy:          gateway.FXPolicy{Breaker: short, Timeout: 150 * time.Millisecond, MaxStaleness: 10 * time.Second},
		LogPolicy:         gateway.LogPolicy{Breaker: short, Timeout: 200 * time.Millisecond, ReplayInterval: 50 * time.Millisecond},
		Health:            gateway.HealthPolicy{Interval: 100 * time.Millisecond, UnhealthyInterval: 50 * time.Millisecond},
		ReconcileInterval: 50 * time.Millisecond, ReconcileMaxInterval: 200 * time.Millisecond,
	})
	require.NoError(t, err)
	return gw
}

func openChaosAccounts(t *testing.T, bank *sim.Bank) []payments.AccountID {
	var ids []payments.AccountID
	for i := range 16 {
		id := payments.AccountID(fmt.Sprintf("acct_chaos%03d", i))
		balance := "1000.00 USD"
		if i < 2 {
			balance = "5.00 USD" // these run dry: declines
		}
		require.NoError(t, bank.Open(id, payments.MustParseMoney(balance)))
		ids = append(ids, id)
	}
	return ids
}

func sumBalances(bank *sim.Bank, ids []payments.AccountID) int64 {
	var total int64
	for _, id := range ids {
		m, _ := bank.Balance(id)
		total += m.Minor()
	}
	return total
}

// chaosMinPerPayer is how many payments each payer makes at least, so that
// a loaded machine still drives thousands of payments through the schedule.
const chaosMinPerPayer = 40

// runChaosPayers pays from n goroutines until the run ends and each has
// made chaosMinPerPayer payments: new payments (a fifth priced in EUR),
// resubmissions of earlier ones, and a few reuses of a key for a different
// amount. It returns every key used.
func runChaosPayers(t *testing.T, gw *gateway.Gateway, accounts []payments.AccountID, n int, run time.Duration) []string {
	var (
		mu   sync.Mutex
		keys []string
		wg   sync.WaitGroup
	)
	deadline := time.Now().Add(run)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			var mine []payments.PaymentRequest
			for i := 0; i < chaosMinPerPayer || time.Now().Before(deadline); i++ {
				req := chaosRequest(rng, accounts, fmt.Sprintf("g%02d-%05d", g, i))
				switch roll := rng.IntN(100); {
				case roll < 10 && len(mine) > 0:
					req = mine[rng.IntN(len(mine))] // the client retries a payment
				case roll < 12 && len(mine) > 0:
					req = mine[rng.IntN(len(mine))]
					req.Amount = payments.MustParseMoney("0.01 USD") // a key reused for another payment
				default:
					mine = append(mine, req)
					mu.Lock()
					keys = append(keys, req.IdempotencyKey)
					mu.Unlock()
				}
				r := gw.Pay(context.Background(), req)
				assert.NotEmpty(t, r.Reason)
			}
		}()
	}
	wg.Wait()
	return keys
}

func chaosRequest(rng *rand.Rand, accounts []payments.AccountID, key string) payments.PaymentRequest {
	from := accounts[rng.IntN(len(accounts))]
	to := accounts[rng.IntN(len(accounts))]
	for to == from {
		to = accounts[rng.IntN(len(accounts))]
	}
	req := payments.PaymentRequest{IdempotencyKey: key, Payer: from, Payee: to,
		Amount: payments.New(int64(1+rng.IntN(2000)), payments.USD)}
	if rng.IntN(5) == 0 {
		req.Amount, req.TargetCurrency = payments.New(int64(1+rng.IntN(2000)), payments.EUR), payments.USD
	}
	return req
}

// waitForGoroutines lets connection goroutines finish after their servers
// and transports closed — yielding to the scheduler, which also polls the
// network, without sleeping — then fails if any is left.
func waitForGoroutines(t *testing.T, baseline int) {
	t.Helper()
	for i := 0; i < 5_000_000 && runtime.NumGoroutine() > baseline; i++ {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines left behind (baseline %d):\n%s", n-baseline, baseline, buf[:runtime.Stack(buf, true)])
	}
}
