package sim_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/benbjohnson/clock"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/sim"
)

var propAccounts = []payments.AccountID{"acct_aaaaaaaa", "acct_bbbbbbbb", "acct_cccccccc"}

type bankModel struct {
	bank     *sim.Bank
	balances map[payments.AccountID]int64
	table    map[string]modelRecord
	debits   int
	charged  map[string]int // payment reference → debits under it
}

type modelRecord struct {
	req      payments.TransferRequest
	declined bool
}

func newBankModel(t *rapid.T) *bankModel {
	m := &bankModel{bank: sim.NewBank(sim.BankConfig{Clock: clock.NewMock()}),
		balances: map[payments.AccountID]int64{}, table: map[string]modelRecord{}, charged: map[string]int{}}
	for _, a := range propAccounts {
		v := rapid.Int64Range(0, 10_000).Draw(t, "balance")
		m.balances[a] = v
		if err := m.bank.Open(a, payments.New(v, payments.USD)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func drawTransfer(t *rapid.T) payments.TransferRequest {
	from := rapid.IntRange(0, len(propAccounts)-1).Draw(t, "from")
	to := (from + rapid.IntRange(1, len(propAccounts)-1).Draw(t, "to offset")) % len(propAccounts)
	return payments.TransferRequest{
		IdempotencyKey: fmt.Sprintf("k%d", rapid.IntRange(0, 5).Draw(t, "key")),
		From:           propAccounts[from],
		To:             propAccounts[to],
		Amount:         payments.New(rapid.Int64Range(1, 4_000).Draw(t, "amount"), payments.USD),
		PaymentID:      rapid.SampledFrom([]string{"", "pay-a", "pay-b"}).Draw(t, "payment"),
	}
}

func (m *bankModel) transfer(t *rapid.T) {
	req := drawTransfer(t)
	r, err := m.bank.Transfer(context.Background(), req)
	rec, seen := m.table[req.IdempotencyKey]
	switch {
	case seen && rec.req != req:
		if !errors.Is(err, payments.ErrIdempotencyConflict) {
			t.Fatalf("reused key %s with a new request: got %v, want a conflict", req.IdempotencyKey, err)
		}
	case seen:
		if rec.declined != errors.Is(err, payments.ErrDeclined) || (!rec.declined && !r.Replayed) {
			t.Fatalf("replay of %s: got %+v, %v; want the first answer (declined=%v)", req.IdempotencyKey, r, err, rec.declined)
		}
	case m.balances[req.From] < req.Amount.Minor():
		m.table[req.IdempotencyKey] = modelRecord{req: req, declined: true}
		if !errors.Is(err, payments.ErrDeclined) {
			t.Fatalf("overdraft %v: got %v, want a decline", req, err)
		}
	default:
		m.table[req.IdempotencyKey] = modelRecord{req: req}
		m.balances[req.From] -= req.Amount.Minor()
		m.balances[req.To] += req.Amount.Minor()
		m.debits++
		if req.PaymentID != "" {
			m.charged[req.PaymentID]++
		}
		if err != nil || r.Replayed {
			t.Fatalf("fresh transfer %v: got %+v, %v", req, r, err)
		}
	}
}

func (m *bankModel) status(t *rapid.T) {
	key := fmt.Sprintf("k%d", rapid.IntRange(0, 5).Draw(t, "key"))
	st, err := m.bank.Status(context.Background(), key)
	rec, seen := m.table[key]
	if !seen {
		if !errors.Is(err, payments.ErrNotFound) {
			t.Fatalf("status of unused %s: %+v, %v", key, st, err)
		}
		return
	}
	want := payments.TransferCompleted
	if rec.declined {
		want = payments.TransferDeclined
	}
	if err != nil || st.State != want || st.Amount != rec.req.Amount {
		t.Fatalf("status of %s: %+v, %v; want %s of %s", key, st, err, want, rec.req.Amount)
	}
}

func (m *bankModel) check(t *rapid.T) {
	for _, a := range propAccounts {
		got, _ := m.bank.Balance(a)
		if got.Minor() != m.balances[a] {
			t.Fatalf("balance of %s: %d, model %d", a, got.Minor(), m.balances[a])
		}
	}
	if d := m.bank.Stats().DebitsApplied; d != m.debits {
		t.Fatalf("debits %d, model %d", d, m.debits)
	}
	want, extra := map[string]int{}, 0
	for p, n := range m.charged {
		if n > 1 {
			want[p], extra = n, extra+n-1
		}
	}
	got := map[string]int{}
	for _, dc := range m.bank.DoubleCharges() {
		got[dc.PaymentID] = len(dc.Keys)
	}
	if len(got) != len(want) || m.bank.Stats().DoubleCharges != extra {
		t.Fatalf("double charges %v (%d extra), model %v (%d extra)", got, m.bank.Stats().DoubleCharges, want, extra)
	}
	for p, n := range want {
		if got[p] != n {
			t.Fatalf("double charges %v, model %v", got, want)
		}
	}
}

func TestBankModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newBankModel(t)
		t.Repeat(map[string]func(*rapid.T){
			"":         m.check,
			"transfer": m.transfer,
			"status":   m.status,
		})
	})
}

// TestBankConcurrentBurst: transfers with colliding keys from many
// goroutines at once still debit each key at most once, conserve money,
// never overdraw, and match the recorded statuses.
func TestBankConcurrentBurst(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newBankModel(t)
		total := int64(0)
		for _, v := range m.balances {
			total += v
		}
		// Each key keeps one pair of accounts, so balances can be rebuilt
		// from the statuses alone; amounts vary to provoke conflicts.
		pairs := map[string][2]payments.AccountID{}
		reqs := rapid.SliceOfN(rapid.Custom(drawTransfer), 2, 40).Draw(t, "requests")
		for i, r := range reqs {
			if p, ok := pairs[r.IdempotencyKey]; ok {
				reqs[i].From, reqs[i].To = p[0], p[1]
			} else {
				pairs[r.IdempotencyKey] = [2]payments.AccountID{r.From, r.To}
			}
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, r := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _ = m.bank.Transfer(context.Background(), r)
			}()
		}
		close(start)
		wg.Wait()

		want := map[payments.AccountID]int64{}
		for a, v := range m.balances {
			want[a] = v
		}
		completed := 0
		for _, st := range m.bank.Transfers() {
			if st.State == payments.TransferCompleted {
				p := pairs[st.IdempotencyKey]
				want[p[0]] -= st.Amount.Minor()
				want[p[1]] += st.Amount.Minor()
				completed++
			}
		}
		sum := int64(0)
		for _, a := range propAccounts {
			got, _ := m.bank.Balance(a)
			if got.Minor() < 0 || got.Minor() != want[a] {
				t.Fatalf("balance of %s: %d, want %d", a, got.Minor(), want[a])
			}
			sum += got.Minor()
		}
		if sum != total {
			t.Fatalf("money not conserved: %d, want %d", sum, total)
		}
		if d := m.bank.Stats().DebitsApplied; d != completed || completed > len(pairs) {
			t.Fatalf("debits %d, completed statuses %d, keys %d", d, completed, len(pairs))
		}
	})
}
