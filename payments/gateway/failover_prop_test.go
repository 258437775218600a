package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// answer is what one bank does with one payment.
type answer int

const (
	answerSuccess answer = iota
	answerDecline        // a business refusal: nothing moves
	answerRefuse         // a 503 sent before processing: provably not processed
	answerOpen           // the acquirer's breaker is open: the bank never sees it
	answerTimeout        // no answer until the caller gives up: outcome unknown
	answerLost           // commits, then the reply is lost: outcome unknown
)

var answerNames = [...]string{"success", "decline", "refuse", "breaker open", "timeout", "lost reply"}

func (a answer) String() string { return answerNames[a] }

// call is one Transfer a bank received, and what it answered.
type call struct {
	bank, key string
	answer    answer
}

// calls is the order in which every bank of a test received transfers.
type calls struct {
	mu   sync.Mutex // protects list
	list []call
}

func (c *calls) add(x call) { c.mu.Lock(); c.list = append(c.list, x); c.mu.Unlock() }
func (c *calls) all() []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.list)
}

// scriptedBank is a simulated bank that answers each payment as its script
// says (success when it says nothing).
type scriptedBank struct {
	*sim.Bank
	name  string
	calls *calls
	mu    sync.Mutex        // protects script
	plan  map[string]answer // by idempotency key
}

func (b *scriptedBank) script(key string, a answer) { b.mu.Lock(); b.plan[key] = a; b.mu.Unlock() }
func (b *scriptedBank) planned(key string) answer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.plan[key]
}

func (b *scriptedBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	a := b.planned(req.IdempotencyKey)
	b.calls.add(call{bank: b.name, key: req.IdempotencyKey, answer: a})
	switch a {
	case answerDecline:
		if _, err := b.Bank.Status(ctx, req.IdempotencyKey); err == nil {
			break // one key, one answer: a transfer committed before is answered as such
		}
		return payments.Receipt{}, &payments.DeclineError{Reason: "do_not_honor"}
	case answerRefuse:
		return payments.Receipt{}, errRefused
	case answerTimeout:
		<-ctx.Done()
		return payments.Receipt{}, ctx.Err()
	case answerLost:
		_, _ = b.Bank.Transfer(ctx, req)
		return payments.Receipt{}, errLost
	}
	return b.Bank.Transfer(ctx, req)
}

func (b *scriptedBank) Status(ctx context.Context, key string) (payments.TransferStatus, error) {
	if b.planned(key) == answerTimeout {
		<-ctx.Done()
		return payments.TransferStatus{}, ctx.Err()
	}
	return b.Bank.Status(ctx, key)
}

// banksRig is a gateway over scripted banks.
type banksRig struct {
	banks []*scriptedBank
	calls *calls
	gw    *gateway.Gateway
}

func newBanksRig(t testingT, weights []int, notProcessed func(error) bool) *banksRig {
	t.Helper()
	rig := &banksRig{calls: &calls{}}
	cfg := gateway.Config{FX: sim.NewFX(sim.FXConfig{}), Log: sim.NewLog(sim.LogConfig{}), Instance: "gw-test",
		Logger: slog.New(slog.DiscardHandler), NotProcessed: notProcessed}
	for i, w := range weights {
		b := &scriptedBank{Bank: newFlakyBank(t).Bank, name: fmt.Sprintf("bank%d", i+1), calls: rig.calls,
			plan: map[string]answer{}}
		rig.banks = append(rig.banks, b)
		cfg.Acquirers = append(cfg.Acquirers, gateway.Acquirer{Name: b.name, Bank: b, Weight: w})
	}
	mem, err := store.NewMemory(store.Config{})
	require.NoError(t, err)
	cfg.Store = mem
	rig.gw, err = gateway.New(cfg)
	require.NoError(t, err)
	return rig
}

// pay scripts each bank's answer to the payment, opening the breakers of
// those drawn "breaker open" for the time of the call, and pays it.
func (rig *banksRig) pay(key string, answers []answer) gateway.Result {
	var opened []string
	for i, b := range rig.banks {
		b.script(key, answers[i])
		if answers[i] == answerOpen {
			br, _ := rig.gw.Registry().Get(b.name)
			br.ForceOpen()
			opened = append(opened, b.name)
		}
	}
	r := rig.gw.Pay(context.Background(), pay(key, "1.00 USD"))
	for _, name := range opened {
		br, _ := rig.gw.Registry().Get(name)
		br.Reset()
	}
	return r
}

// checkFailover returns the first way the payments keys broke the failover
// rules, by the banks' own records and the order of their calls:
//
//   - no payment is debited at more than one bank;
//   - once a bank received a payment with an answer other than "not
//     processed" (its outcome there was a success, a decline or unknown),
//     no other bank receives it;
//   - the gateway's answer agrees with the banks: succeeded at the one
//     bank that debited it, declined or rejected where none did, pending
//     at most at the bank it names.
func (rig *banksRig) checkFailover(keys []string) error {
	debited := map[string][]string{}
	for _, b := range rig.banks {
		for _, st := range b.Transfers() {
			if st.State == payments.TransferCompleted {
				debited[st.PaymentID] = append(debited[st.PaymentID], b.name)
			}
		}
	}
	owner := map[string]string{} // the bank that may hold each payment
	for _, c := range rig.calls.all() {
		if o, ok := owner[c.key]; ok && o != c.bank {
			return fmt.Errorf("%s: sent to %s after %s may have processed it", c.key, c.bank, o)
		}
		if c.answer != answerRefuse {
			owner[c.key] = c.bank
		}
	}
	for _, k := range keys {
		if len(debited[k]) > 1 {
			return fmt.Errorf("%s: debited at %d banks: %v", k, len(debited[k]), debited[k])
		}
		r, err := rig.gw.Lookup(context.Background(), k)
		if err != nil {
			return err
		}
		if err := agrees(k, r, debited[k]); err != nil {
			return err
		}
	}
	return nil
}

// agrees checks a payment's result against the banks that debited it.
func agrees(k string, r gateway.Result, debited []string) error {
	switch r.State {
	case gateway.Succeeded:
		if len(debited) != 1 || debited[0] != r.Bank {
			return fmt.Errorf("%s: succeeded at %q but debited at %v", k, r.Bank, debited)
		}
	case gateway.Declined, gateway.Rejected:
		if len(debited) > 0 {
			return fmt.Errorf("%s: %s but debited at %v", k, r.State, debited)
		}
	case gateway.Pending:
		if len(debited) > 0 && debited[0] != r.Bank {
			return fmt.Errorf("%s: pending at %q but debited at %v", k, r.Bank, debited)
		}
	default:
		return fmt.Errorf("%s: indefinite state %q", k, r.State)
	}
	return nil
}

// For any per-bank answers, a payment is debited at most once across all
// banks, and a payment whose outcome was unknown at a bank is never sent
// to another — while it is paid, retried and reconciled.
func TestFailoverNeverDebitsTwice(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			weights := rapid.SliceOfN(rapid.IntRange(0, 3), 2, 3).Draw(rt, "weights")
			rig := newBanksRig(rt, weights, func(err error) bool { return errors.Is(err, errRefused) || resilience.IsRejected(err) })
			defer rig.gw.Close()
			answers := rapid.SliceOfN(rapid.SampledFrom([]answer{answerSuccess, answerDecline, answerRefuse, answerOpen,
				answerTimeout, answerLost}), len(weights), len(weights))
			var keys []string
			pending := map[string]string{} // payments answered pending, and their bank
			rt.Repeat(map[string]func(*rapid.T){
				"pay": func(t *rapid.T) {
					k := fmt.Sprintf("order-%d", len(keys)+1)
					keys = append(keys, k)
					if r := rig.pay(k, answers.Draw(t, "answers")); r.State == gateway.Pending {
						pending[k] = r.Bank
					}
				},
				"pay again": func(t *rapid.T) {
					if len(keys) == 0 {
						t.Skip("no payment yet")
					}
					k := rapid.SampledFrom(keys).Draw(t, "key")
					before, err := rig.gw.Lookup(context.Background(), k)
					require.NoError(t, err)
					r := rig.pay(k, answers.Draw(t, "answers"))
					if before.State != gateway.Rejected {
						// Replayed, or pending while the reconciler holds it.
						require.True(t, r.Replayed || r.State == gateway.Pending, "%s: a %s payment is answered from the store", k, before.State)
						require.Equal(t, before.Bank, r.Bank, "%s: a retry moved to another bank", k)
					}
				},
				"time passes": func(t *rapid.T) {
					time.Sleep(time.Duration(rapid.IntRange(1, 5000).Draw(t, "ms")) * time.Millisecond)
				},
				"": func(t *rapid.T) {
					synctest.Wait() // the reconciler at rest
					require.NoError(t, rig.checkFailover(keys))
				},
			})
			// Every bank answers now: every payment settles, a pending one at
			// the bank it was pending at.
			for _, b := range rig.banks {
				for _, k := range keys {
					b.script(k, answerSuccess)
				}
			}
			require.NoError(rt, rig.gw.Drain(context.Background()))
			require.NoError(rt, rig.checkFailover(keys))
			for k, bank := range pending {
				r, err := rig.gw.Lookup(context.Background(), k)
				require.NoError(rt, err)
				require.Contains(rt, []gateway.State{gateway.Succeeded, gateway.Declined}, r.State, k)
				require.Equal(rt, bank, r.Bank, "%s: settled at another bank than it was pending at", k)
			}
		})
	})
}

// The check above can fail: a NotProcessed that calls a lost reply "not
// processed" sends the payment on to the second bank, which debits it
// again, and checkFailover says so.
func TestFailoverCheckCatchesADoubleDebit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lying := func(err error) bool { return errors.Is(err, errLost) || resilience.IsRejected(err) }
		rig := newBanksRig(t, []int{0, 0}, lying)
		defer rig.gw.Close()
		r := rig.pay("order-1", []answer{answerLost, answerSuccess})
		require.Equal(t, gateway.Succeeded, r.State, r.Reason)
		err := rig.checkFailover([]string{"order-1"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "order-1: sent to bank2 after bank1 may have processed it")
	})
}
