package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// The payment mix: most payments stay in dollars, some are paid in dollars
// and credited in euros (so they need an FX quote), and a few come from
// accounts with no money (the bank declines them).
const (
	accountsPerCurrency = 40
	brokePayers         = 2       // of accountsPerCurrency in each currency
	crossCurrencyPct    = 30      // share of payments converted USD → EUR
	openingBalance      = 1 << 40 // minor units: enough for any run
)

var usdEUR = payments.MustParseRate("0.9215")

// job is one payment of the workload, due at an offset from the start.
type job struct {
	index int
	at    time.Duration
	req   payments.PaymentRequest
}

// workload draws the payments of a run from the seed: the same seed and
// scenario give the same payments at the same offsets.
func workload(s Scenario, seed uint64) []job {
	if s.Rate <= 0 || s.payments() <= 0 || s.payments() > maxPayments {
		return nil // refused by validate; never a slice of a length out of range
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	n := int(s.payments())
	jobs := make([]job, n)
	interval := time.Second / time.Duration(s.Rate)
	for i := range jobs {
		jobs[i] = job{index: i, at: time.Duration(i) * interval, req: drawPayment(rng, seed, i)}
	}
	return jobs
}

func drawPayment(rng *rand.Rand, seed uint64, i int) payments.PaymentRequest {
	cur := "usd"
	req := payments.PaymentRequest{
		IdempotencyKey: fmt.Sprintf("pay-%d-%06d", seed, i),
		Amount:         payments.New(int64(100+rng.IntN(99_900)), payments.USD),
		Description:    "drill payment",
	}
	if rng.IntN(100) < crossCurrencyPct {
		cur, req.TargetCurrency = "eur", payments.EUR
	}
	// Broke accounts only ever pay, so they stay broke and keep declining.
	payer := rng.IntN(accountsPerCurrency)
	payee := brokePayers + rng.IntN(accountsPerCurrency-brokePayers)
	if payee == payer {
		payee = brokePayers + (payee-brokePayers+1)%(accountsPerCurrency-brokePayers)
	}
	req.Payer, req.Payee = account(cur, payer), account(cur, payee)
	return req
}

// account names the i-th account of a currency; the first brokePayers of
// each currency hold nothing.
func account(cur string, i int) payments.AccountID {
	return payments.AccountID(fmt.Sprintf("acct_%s%05d", cur, i))
}

// openAccounts creates the workload's accounts and the FX rate at a
// simulated bank and exchange.
func openAccounts(svcs *simServices) error {
	for _, c := range []struct {
		code string
		cur  payments.Currency
	}{{"usd", payments.USD}, {"eur", payments.EUR}} {
		for i := range accountsPerCurrency {
			balance := payments.New(openingBalance, c.cur)
			if i < brokePayers {
				balance = payments.New(0, c.cur)
			}
			for _, b := range svcs.banks() {
				if err := b.Open(account(c.code, i), balance); err != nil {
					return err
				}
			}
		}
	}
	return svcs.fx.SetRate(payments.USD, payments.EUR, usdEUR)
}
