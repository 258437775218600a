package dst

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// The accounts of a world: accountsPerCurrency in dollars and in euros,
// the first brokeAccounts of each empty (their payments are declined), the
// others rich enough for any world.
const (
	accountsPerCurrency = 20
	brokeAccounts       = 2
	openingBalance      = 1 << 40
)

var usdEUR = payments.MustParseRate("0.9215")

// payment is one payment of a world's traffic: a request sent at an
// offset, again on retries. A reused payment sends another payment's key
// with a request of its own (the gateway must refuse it as a conflict).
type payment struct {
	idx    int
	at     time.Duration
	req    payments.PaymentRequest
	reused bool
}

// arrivalStep is the stretch of time over which a load's rate is judged.
const arrivalStep = 100 * time.Millisecond

// arrivals returns the offsets at which payments arrive, oldest first.
// Each one lies a few hundred nanoseconds off the millisecond grid, and no
// two at the same instant, so that an arrival never coincides with a timer
// of the gateway (tickers, probe intervals), which run on round figures.
func (l Load) arrivals(d time.Duration) []time.Duration {
	var out []time.Duration
	owed := 0.0
	for t := time.Duration(0); t < d; t += arrivalStep {
		owed += l.owed(t, d)
		k := int(owed)
		owed -= float64(k)
		for j := range k { // spread evenly over the step
			if at := t + time.Duration(j)*arrivalStep/time.Duration(k) + 317*time.Nanosecond; at < d {
				out = append(out, at)
			}
		}
	}
	return out
}

// count is how many payments arrivals returns at most, without making
// them. A load out of bounds counts as none.
func (l Load) count(d time.Duration) int {
	if l.Rate < 0 || l.Rate > maxRate || l.Peak < 0 || l.Peak > maxRate || d > maxDuration {
		return 0
	}
	n, owed := 0, 0.0
	for t := time.Duration(0); t < d; t += arrivalStep {
		owed += l.owed(t, d)
		k := int(owed)
		owed -= float64(k)
		n += k
	}
	return n
}

// owed is how many payments arrive in the step from t: a ramp's rate at
// the step's middle, a burst's share of the step at its peak.
func (l Load) owed(t, d time.Duration) float64 {
	step := arrivalStep.Seconds()
	switch l.Shape {
	case Ramp:
		mid := t + arrivalStep/2
		return (float64(l.Rate) + float64(l.Peak-l.Rate)*float64(mid)/float64(d)) * step
	case Bursts:
		if l.Every <= 0 {
			break
		}
		every, length := l.Every.D(), min(l.Length.D(), l.Every.D())
		in := time.Duration(0) // how much of [t, t+step) lies in bursts
		for k := t / every; k*every < t+arrivalStep; k++ {
			from, to := max(k*every, t), min(k*every+length, t+arrivalStep)
			in += max(to-from, 0)
		}
		return float64(l.Rate)*step + float64(l.Peak-l.Rate)*in.Seconds()
	}
	return float64(l.Rate) * step
}

// traffic draws the payments of w from its seed.
func (w World) traffic() []payment {
	rng := rand.New(newPCG(w.Seed, streamPayments))
	at := w.Load.arrivals(w.Duration.D())
	out := make([]payment, len(at))
	for i := range out {
		p := payment{idx: i, at: at[i], req: drawRequest(rng, w.Load, i)}
		if i > 0 && rng.IntN(100) < w.Load.Reused {
			p.reused = true
			p.req.IdempotencyKey = out[rng.IntN(i)].req.IdempotencyKey
			p.req.Description = "reuses another payment's key"
		}
		out[i] = p
	}
	return out
}

func drawRequest(rng *rand.Rand, l Load, i int) payments.PaymentRequest {
	cur := "usd"
	req := payments.PaymentRequest{IdempotencyKey: fmt.Sprintf("pay-%06d", i),
		Amount: payments.New(int64(100+rng.IntN(99_900)), payments.USD), Description: "dst payment"}
	if rng.IntN(100) < l.Cross {
		cur, req.TargetCurrency = "eur", payments.EUR
	}
	payer := brokeAccounts + rng.IntN(accountsPerCurrency-brokeAccounts)
	if rng.IntN(100) < l.Broke {
		payer = rng.IntN(brokeAccounts)
	}
	payee := brokeAccounts + rng.IntN(accountsPerCurrency-brokeAccounts)
	if payee == payer {
		payee = brokeAccounts + (payee-brokeAccounts+1)%(accountsPerCurrency-brokeAccounts)
	}
	req.Payer, req.Payee = account(cur, payer), account(cur, payee)
	return req
}

// account names the i-th account of a currency.
func account(cur string, i int) payments.AccountID {
	return payments.AccountID(fmt.Sprintf("acct_%s%05d", cur, i))
}
