package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// A check that can only pass proves nothing: each one, given records that
// break its rule, says so. (README.md shows them failing on real runs of
// deliberately broken fleets, RIPRAP_FLEET_BREAK.)

func goodLedger() ledgerRecords {
	return ledgerRecords{
		Answers: map[string][]answer{
			"k1": {{State: gateway.Succeeded, TransferID: "tr1"}, {State: gateway.Succeeded, TransferID: "tr1"}},
			"k2": {{State: gateway.Declined}},
			"k3": {{State: gateway.Rejected}},
		},
		Final: map[string]answer{"k1": {State: gateway.Succeeded, TransferID: "tr1"}, "k2": {State: gateway.Declined},
			"k3": {State: gateway.Succeeded, TransferID: "tr3"}, "k4": {}},
		Transfers: []payments.TransferStatus{
			{PaymentID: "k1", TransferID: "tr1", State: payments.TransferCompleted},
			{PaymentID: "k2", State: payments.TransferDeclined},
			{PaymentID: "k3", TransferID: "tr3", State: payments.TransferCompleted}, // rejected once, retried
		},
	}
}

func TestCheckLedgerReportsEachBrokenPromise(t *testing.T) {
	assert.Empty(t, checkLedger(goodLedger()), "a good run passes")
	cases := []struct {
		name   string
		mutate func(r *ledgerRecords)
	}{
		{"answered succeeded, never debited", func(r *ledgerRecords) {
			r.Answers["k4"] = []answer{{State: gateway.Succeeded, TransferID: "tr9"}}
		}},
		{"answered succeeded with another transfer", func(r *ledgerRecords) {
			r.Answers["k1"] = append(r.Answers["k1"], answer{State: gateway.Succeeded, TransferID: "tr3"})
		}},
		{"answered declined, debited", func(r *ledgerRecords) { r.Answers["k3"] = []answer{{State: gateway.Declined}} }},
		{"debited, forgotten by the ledger (a killed process's memory)", func(r *ledgerRecords) { r.Final["k3"] = answer{} }},
		{"debited twice", func(r *ledgerRecords) {
			r.Transfers = append(r.Transfers, payments.TransferStatus{PaymentID: "k1", TransferID: "tr7", State: payments.TransferCompleted})
		}},
		{"charged under two keys", func(r *ledgerRecords) {
			r.DoubleCharges = []sim.DoubleCharge{{PaymentID: "k1", Keys: []string{"a", "b"}}}
		}},
		{"pending after the drain", func(r *ledgerRecords) { r.Final["k4"] = answer{State: gateway.Pending} }},
		{"succeeded in the ledger, never debited", func(r *ledgerRecords) {
			r.Final["k4"] = answer{State: gateway.Succeeded, TransferID: "tr9"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := goodLedger()
			tc.mutate(&r)
			assert.NotEmpty(t, checkLedger(r))
		})
	}
}

func TestRateCheckCountsTheBusiestWindow(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var within, over []time.Time
	for i := range 25 { // the limit's burst and a second's rate, spread over one second
		within = append(within, t0.Add(time.Duration(i)*40*time.Millisecond))
	}
	for i := range 45 { // three processes each with the whole limit, as an unshared fleet sends
		over = append(over, t0.Add(time.Duration(i)*22*time.Millisecond))
	}
	bound := rateBound(bankRate, bankBurst, rateWindow, rateSlack)
	assert.Equal(t, 30, bound, "20/s × (1s + 250ms) + 5")
	assert.Equal(t, 25, maxInWindow(within, rateWindow))
	assert.LessOrEqual(t, maxInWindow(within, rateWindow), bound)
	assert.Equal(t, 45, maxInWindow(over, rateWindow))
	assert.Greater(t, maxInWindow(over, rateWindow), bound, "the check fails an unshared fleet")
	assert.Equal(t, 1, maxInWindow(append(within[:1:1], t0.Add(rateWindow)), rateWindow), "windows are half-open")
}

func TestPropagationCheckFailsALateOrMissingPeer(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	nodes := []string{"a", "b", "c"}
	events := []nodeEvent{
		{Instance: "a", Policy: "breaker", From: "closed", To: "open", At: at(10 * time.Millisecond)},
		{Instance: "b", Policy: "breaker", From: "closed", To: "held_open", At: at(12 * time.Millisecond)},
		{Instance: "c", Policy: "breaker", From: "closed", To: "open", At: at(40 * time.Millisecond)},
	}
	good := propagationOf(events, nodes, t0, t0.Add(time.Second))
	assert.Equal(t, "a", good.Opener)
	assert.Equal(t, 2*time.Millisecond, good.Latency["b"])
	assert.Equal(t, []time.Duration{2 * time.Millisecond}, heldLatencies([]propagation{good}), "only holds count in the figure")
	assert.Empty(t, checkPropagation([]propagation{good}, nodes, propagationBound))

	late := propagationOf(append(events[:2:2], nodeEvent{Instance: "c", Policy: "breaker", To: "open", At: at(150 * time.Millisecond)}),
		nodes, t0, t0.Add(time.Second))
	assert.NotEmpty(t, checkPropagation([]propagation{late}, nodes, propagationBound), "a peer stopped after 140ms")
	missing := propagationOf(events[:2], nodes, t0, t0.Add(time.Second))
	assert.NotEmpty(t, checkPropagation([]propagation{missing}, nodes, propagationBound), "a peer that kept calling")
	none := propagationOf(nil, nodes, t0, t0.Add(time.Second))
	assert.NotEmpty(t, checkPropagation([]propagation{none}, nodes, propagationBound), "no node opened")
}

func TestDeadCallsCheck(t *testing.T) {
	assert.Empty(t, checkDeadCalls(15, 10, deadNum, deadDen), "1.5× is within")
	assert.NotEmpty(t, checkDeadCalls(16, 10, deadNum, deadDen), "more than 1.5×")
	assert.NotEmpty(t, checkDeadCalls(30, 10, deadNum, deadDen), "three processes each finding out alone")
	assert.NotEmpty(t, checkDeadCalls(0, 0, deadNum, deadDen), "a baseline that measured nothing")
}
