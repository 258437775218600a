package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// debit moves 1.00 USD under key for the payment pid at a simulated bank.
func debit(t *testing.T, bank *sim.Bank, key, pid string) {
	t.Helper()
	_, err := bank.Transfer(context.Background(), payments.TransferRequest{IdempotencyKey: key, PaymentID: pid,
		From: account("usd", 5), To: account("usd", 6), Amount: payments.New(100, payments.USD)})
	require.NoError(t, err)
}

func newTestBank(t *testing.T) *sim.Bank {
	t.Helper()
	bank := sim.NewBank(sim.BankConfig{})
	for i := range accountsPerCurrency {
		require.NoError(t, bank.Open(account("usd", i), payments.New(openingBalance, payments.USD)))
	}
	return bank
}

func bankLedger(bank *sim.Bank) ledger {
	return ledger{transfers: bank.Transfers(), doubleCharges: bank.DoubleCharges()}
}

// A payment left pending after its debit is not a double debit — the
// other checks report it — while one payment debited under two keys is.
func TestNoDoubleDebitTellsPendingAfterDebitFromDoubleDebit(t *testing.T) {
	bank := newTestBank(t)
	debit(t, bank, "pay-1", "pay-1")
	debit(t, bank, "pay-2", "pay-2")
	byKey := map[string]gateway.State{"pay-1": gateway.Succeeded, "pay-2": gateway.Pending}
	r := &runResult{bank: bank.Stats()}

	inv := noDoubleDebit(r, bankLedger(bank))
	assert.True(t, inv.ok, inv.detail)
	assert.Equal(t, "bank debits 2; 0 keys debited twice, 0 payments debited under two keys", inv.detail)
	inv = debitsMatch(byKey, bankLedger(bank))
	assert.False(t, inv.ok)
	assert.Contains(t, inv.detail, "1 debited but left pending or unknown")

	debit(t, bank, "pay-1-again", "pay-1") // the same payment, charged again under a new key
	r.bank = bank.Stats()
	inv = noDoubleDebit(r, bankLedger(bank))
	assert.False(t, inv.ok)
	assert.Equal(t, "bank debits 3; 0 keys debited twice, 1 payments debited under two keys", inv.detail)
}

func TestDebitsMatchAnswers(t *testing.T) {
	bank := newTestBank(t)
	debit(t, bank, "pay-1", "pay-1")
	for _, tc := range []struct {
		name  string
		state gateway.State
		ok    bool
		want  string
	}{
		{"succeeded", gateway.Succeeded, true, "succeeded 1; 0 debited but left pending or unknown, 0 debited but answered declined or rejected, 0 succeeded without a debit"},
		{"rejected yet debited", gateway.Rejected, false, "1 debited but answered declined or rejected"},
		{"unknown", Unknown, false, "1 debited but left pending or unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := debitsMatch(map[string]gateway.State{"pay-1": tc.state}, bankLedger(bank))
			assert.Equal(t, tc.ok, inv.ok)
			assert.Contains(t, inv.detail, tc.want)
		})
	}
	inv := debitsMatch(map[string]gateway.State{"pay-1": gateway.Succeeded, "pay-9": gateway.Succeeded}, bankLedger(bank))
	assert.False(t, inv.ok)
	assert.Contains(t, inv.detail, "1 succeeded without a debit")
}

func TestLoggedOnceWithinTheDrain(t *testing.T) {
	entry := func(id string) payments.Entry { return payments.Entry{PaymentID: id} }
	byKey := map[string]gateway.State{"pay-1": gateway.Succeeded, "pay-2": gateway.Declined}
	good := ledger{logEntries: []payments.Entry{entry("pay-1")}}
	for _, tc := range []struct {
		name string
		r    runResult
		l    ledger
		want string // "" for PASS
	}{
		{"every succeeded payment once", runResult{protected: true, drain: time.Second}, good, ""},
		{"missing", runResult{}, ledger{}, "missing 1"},
		{"a declined payment logged", runResult{}, ledger{logEntries: []payments.Entry{entry("pay-1"), entry("pay-2")}}, "unexpected 1"},
		{"twice", runResult{}, ledger{logEntries: []payments.Entry{entry("pay-1"), entry("pay-1")}}, "log entries 1"},
		{"outbox left", runResult{samples: []sample{{outbox: 3}}}, good, "outbox left 3"},
		{"drain gave up", runResult{protected: true, drainErr: errors.New("gateway: drain stopped")}, good, "(gateway: drain stopped)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := loggedOnce(&tc.r, byKey, tc.l)
			if tc.want == "" {
				assert.True(t, inv.ok, inv.detail)
				assert.Equal(t, "log entries 1, succeeded 1, missing 0, unexpected 0, outbox left 0, drain 1s", inv.detail)
				return
			}
			assert.False(t, inv.ok, inv.detail)
			assert.Contains(t, inv.detail, tc.want)
		})
	}
}

func TestNothingPendingAfterTheDrain(t *testing.T) {
	done := &runResult{payments: []paymentRecord{{first: gateway.Pending, final: gateway.Succeeded}}}
	assert.True(t, nothingPending(done).ok)
	for name, r := range map[string]*runResult{
		"pending":           {payments: []paymentRecord{{first: gateway.Pending, final: gateway.Pending}}},
		"unknown":           {payments: []paymentRecord{{first: Unknown, final: Unknown}}},
		"left in the store": {samples: []sample{{pending: 2}}},
	} {
		inv := nothingPending(r)
		assert.False(t, inv.ok, name)
	}
}

// refused is a run of sc in which the named breaker went from closed to
// state at from, and back to closed (through half-open) at to (0: never).
func refused(sc Scenario, name, state string, from, to time.Duration) *runResult {
	r := &runResult{protected: true, scenario: sc, end: sc.Duration + 2*time.Second, timeouts: drillTimeouts,
		changes: []stateChange{{t: from, name: name, from: "closed", to: state}}}
	if to > 0 {
		r.changes = append(r.changes, stateChange{t: to, name: name, from: state, to: "half_open"},
			stateChange{t: to + 10*time.Millisecond, name: name, from: "half_open", to: "closed"})
	}
	return r
}

func TestHeldDownFailsOnlyWhenAWorkingDependencyIsHeld(t *testing.T) {
	drillSc, slow := builtins["drill"], builtins["slow-bank"]
	sec := time.Second
	for _, tc := range []struct {
		name string
		r    *runResult
		ok   bool
		want string
	}{
		{"slow bank held for good", refused(slow, "bank", "held_open", sec, 0), false, "bank held 13s, longest refusal 0s"},
		{"slow bank's status lookups shut for good", refused(slow, "bank-status", "open", sec, 0), false, "bank held 0s, longest refusal 13s"},
		{"a spurious trip of one open wait", refused(slow, "bank", "open", sec, 3*sec), true, "bank held 0s, longest refusal 2s"},
		{"open past one wait", refused(slow, "bank", "open", sec, 4100*time.Millisecond), false, "bank held 0s, longest refusal 3.1s"},
		{"a hold of a second", refused(slow, "bank", "held_open", sec, 2*sec), false, "bank held 1s"},
		{"slow bank never refused", &runResult{protected: true, scenario: slow, end: 14 * sec, timeouts: drillTimeouts}, true, "bank held 0s, longest refusal 0s"},
		{"held during the hang, released after", refused(drillSc, "bank", "held_open", 2500*time.Millisecond, 5500*time.Millisecond), true, "bank held 0s"},
		{"held long after the hang", refused(drillSc, "bank", "held_open", 2500*time.Millisecond, 9*sec), false,
			"bank held " + round(9*sec-5*sec-holdGrace(drillTimeouts.bank))},
		{"fx held before its slowdown", refused(drillSc, "fx", "held_open", sec, 2*sec), false, "fx held 1s"},
		{"forced open", refused(slow, "fx", "forced_open", sec, 1100*time.Millisecond), false, "fx held 100ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := heldDown(tc.r)
			assert.Equal(t, tc.ok, inv.ok, inv.detail)
			assert.Contains(t, inv.detail, tc.want)
		})
	}
	inv := heldDown(&runResult{scenario: slow})
	assert.True(t, inv.ok && inv.na, "no breakers without riprap")
	inv = heldDown(refused(builtins["flaky-log"], "log", "held_open", sec, 0))
	assert.True(t, inv.ok, "a log failing 30%% of appends may rightly be refused: %s", inv.detail)
	assert.Contains(t, inv.detail, "log not checked (30.0% of requests fail)")
}

func TestMergeAndMinus(t *testing.T) {
	s := func(a, b int) interval {
		return interval{time.Duration(a) * time.Second, time.Duration(b) * time.Second}
	}
	merged := merge([]interval{s(6, 7), s(3, 5), s(1, 4)})
	assert.Equal(t, []interval{s(1, 5), s(6, 7)}, merged)
	assert.Equal(t, []interval{s(0, 1), s(5, 6), s(7, 10)}, minus(s(0, 10), merged))
	assert.Equal(t, []interval{s(5, 6)}, minus(s(2, 6), merged))
	assert.Empty(t, minus(s(2, 4), merged))
	assert.Equal(t, []interval{s(0, 3)}, minus(s(0, 3), nil))
}

func TestRefusingFollowsTheTransitions(t *testing.T) {
	changes := []stateChange{
		{t: time.Second, name: "bank", from: "closed", to: "open"},
		{t: 2 * time.Second, name: "fx", from: "closed", to: "open"},
		{t: 3 * time.Second, name: "bank", from: "open", to: "half_open"},
		{t: 4 * time.Second, name: "bank", from: "half_open", to: "held_open"},
	}
	assert.Equal(t, []refusal{{interval{time.Second, 3 * time.Second}, "open"}, {interval{4 * time.Second, 6 * time.Second}, "held_open"}},
		refusing(changes, "bank", 6*time.Second))
	assert.Empty(t, refusing(changes, "log", 6*time.Second))
}

func pcts99(p99 time.Duration) percentiles {
	return percentiles{n: 100, p50: p99 / 2, p95: p99, p99: p99}
}

func TestTailCheck(t *testing.T) {
	for _, tc := range []struct {
		name        string
		plain, prot time.Duration
		ok          bool
	}{
		{"better", 508 * time.Millisecond, 260 * time.Millisecond, true},
		{"within the margin", time.Second, 1050*time.Millisecond + tailSlack, true},
		{"worse: the first wave waits out two attempts", 508 * time.Millisecond, 1050 * time.Millisecond, false},
		{"a few ms over small tails", 4 * time.Millisecond, 20 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := []tailWindow{{label: "bank hang 2s–5s", plain: pcts99(tc.plain), prot: pcts99(tc.prot)}}
			inv := tailCheck(ws)
			assert.Equal(t, tc.ok, inv.ok, inv.detail)
			verdict := map[bool]string{true: "ok", false: "WORSE"}[tc.ok]
			assert.Equal(t, "bank hang 2s–5s: "+round(tc.prot)+" vs "+round(tc.plain)+" "+verdict, inv.detail)
		})
	}
	empty := tailCheck([]tailWindow{{label: "quiet", plain: percentiles{}, prot: pcts99(time.Hour)}})
	assert.True(t, empty.ok, "a window no payment was due in compares nothing")
}

func TestTailWindowsAreTheFaultWindows(t *testing.T) {
	plain := summary{all: pcts99(time.Second), faults: []faultSummary{{latency: pcts99(2 * time.Second)}}}
	prot := summary{all: pcts99(time.Millisecond), faults: []faultSummary{{latency: pcts99(3 * time.Second)}}}
	sc := Scenario{Faults: []Fault{{Service: "bank", Kind: KindHang, Start: time.Second, End: 2 * time.Second}}}
	assert.Equal(t, []tailWindow{{label: "bank hang 1s–2s", plain: plain.faults[0].latency, prot: prot.faults[0].latency}},
		tailWindows(sc, plain, prot))
	assert.Empty(t, tailWindows(Scenario{}, plain, prot))
	inv := tailCheck(nil)
	assert.True(t, inv.ok && inv.na, "nothing to compare without fault windows")
	assert.Equal(t, "no fault windows", inv.detail)
}

// The report fails when the comparison does, even if the protected run
// kept every invariant.
func TestReportFailsOnAFailedCheck(t *testing.T) {
	sc := testScenario()
	mk := func(protected bool, latency time.Duration) *runResult {
		r := &runResult{protected: protected, scenario: sc, traffic: sc.Duration, invariants: []invariant{{name: "x: y", ok: true}}}
		for _, f := range sc.Faults {
			r.payments = append(r.payments, paymentRecord{at: f.Start, latency: latency, first: gateway.Succeeded, final: gateway.Succeeded})
		}
		return r
	}
	good := newReport(sc, 1, 10, mk(false, time.Second), mk(true, 100*time.Millisecond))
	require.Len(t, good.checks, 1)
	assert.True(t, good.passed())
	bad := newReport(sc, 1, 10, mk(false, 100*time.Millisecond), mk(true, time.Second))
	assert.False(t, bad.passed())
	assert.Contains(t, bad.verdict(), "FAIL")
}

// In a two-bank scenario the baseline has the primary bank only, so the
// tail is judged against the protected run with the primary bank only;
// the two-bank run's successes at the second bank are not held against
// refusals the baseline answered at once.
func TestTwoBankTailComparesTheRunWithTheBaselinesBanks(t *testing.T) {
	sc := testScenario()
	sc.Banks = 2
	mk := func(protected, oneBank bool, latency time.Duration) *runResult {
		r := &runResult{protected: protected, oneBank: oneBank, scenario: sc, traffic: sc.Duration,
			invariants: []invariant{{name: "x: y", ok: true}}}
		for _, f := range sc.Faults {
			r.payments = append(r.payments, paymentRecord{at: f.Start, latency: latency, first: gateway.Succeeded, final: gateway.Succeeded})
		}
		return r
	}
	plain := mk(false, false, 10*time.Millisecond)
	good := newReport(sc, 1, 10, plain, mk(true, true, 5*time.Millisecond), mk(true, false, time.Second))
	require.Len(t, good.checks, 1)
	assert.True(t, good.checks[0].ok, good.checks[0].detail)
	assert.Contains(t, good.checks[0].detail, "against riprap with the primary bank only")
	bad := newReport(sc, 1, 10, plain, mk(true, true, time.Second), mk(true, false, 5*time.Millisecond))
	require.Len(t, bad.checks, 1)
	assert.False(t, bad.checks[0].ok, "the primary-only run is judged: %s", bad.checks[0].detail)
}
