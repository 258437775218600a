package sqlitestore_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sim"
)

// crashRecords is what a crash run leaves behind: what the payers were
// told, what the drained gateway's store says, and the bank's and the
// log's own records, which the gateway's kills cannot touch. It is plain
// data.
type crashRecords struct {
	// Acked maps each key a payer saw answered Succeeded to the transfer
	// ID of that answer.
	Acked map[string]string
	// Final maps every key a payer sent to the state the drained gateway
	// holds for it; "" when the gateway does not know the key.
	Final map[string]gateway.State
	// Transfers and DoubleCharges are the bank's; Logged and LogConflicts
	// the log's.
	Transfers     []payments.TransferStatus
	DoubleCharges []sim.DoubleCharge
	Logged        []payments.Entry
	LogConflicts  int
	// Drained is the gateway's status after the drain.
	Drained drainedStatus
}

// drainedStatus is the part of gateway.Status the drain waits on.
type drainedStatus struct {
	Pending    int `json:"pending"`
	Open       int `json:"open"`
	LogQueued  int `json:"log_queued"`
	LogRefused int `json:"log_refused_count"`
}

func (d drainedStatus) drained() bool { return d.Pending == 0 && d.Open == 0 && d.LogQueued == 0 }

// crashVerdict lists, by invariant, what a run got wrong: one line per
// payment. A run is good when every list is empty.
type crashVerdict struct {
	// Lost: a payment acknowledged succeeded that the bank did not debit
	// exactly once, or that the gateway's store no longer holds as
	// succeeded; money the bank moved for a payment the store does not
	// hold as succeeded.
	Lost []string
	// DoubleDebits: a payment debited more than once.
	DoubleDebits []string
	// Unlogged: a succeeded payment (acknowledged, or held by the store)
	// missing from the log.
	Unlogged []string
	// Mislogged: a log entry with no debit behind it or with another
	// transfer than the bank's, an entry logged twice, or one the log
	// refused.
	Mislogged []string
	// Pending: payments whose outcome is still open after the drain.
	Pending []string
}

func (v crashVerdict) ok() bool {
	return len(v.Lost)+len(v.DoubleDebits)+len(v.Unlogged)+len(v.Mislogged)+len(v.Pending) == 0
}

// String summarizes v, with the first few lines of each list.
func (v crashVerdict) String() string {
	var b strings.Builder
	for _, l := range []struct {
		name  string
		lines []string
	}{{"lost", v.Lost}, {"double debits", v.DoubleDebits}, {"unlogged", v.Unlogged},
		{"mislogged", v.Mislogged}, {"pending", v.Pending}} {
		fmt.Fprintf(&b, "%s: %d", l.name, len(l.lines))
		for _, line := range l.lines[:min(len(l.lines), 5)] {
			fmt.Fprintf(&b, "\n  %s", line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checkCrashRun holds a run's records to the gateway's promises: nothing
// lost, nothing debited twice, every succeeded payment logged exactly once,
// nothing left pending.
func checkCrashRun(r crashRecords) crashVerdict {
	var v crashVerdict
	debits := map[string][]string{} // payment ID → the transfers that debited it
	for _, tr := range r.Transfers {
		if tr.State == payments.TransferCompleted {
			debits[tr.PaymentID] = append(debits[tr.PaymentID], tr.TransferID)
		}
	}
	logged := map[string][]payments.Entry{}
	for _, e := range r.Logged {
		logged[e.PaymentID] = append(logged[e.PaymentID], e)
	}
	for _, key := range slices.Sorted(maps.Keys(debits)) {
		if n := len(debits[key]); n > 1 {
			v.DoubleDebits = append(v.DoubleDebits, fmt.Sprintf("%s: debited %d times %v", key, n, debits[key]))
		}
		if st := r.Final[key]; st != gateway.Succeeded {
			v.Lost = append(v.Lost, fmt.Sprintf("%s: debited by the bank, the store says %q", key, st))
		}
	}
	for _, dc := range r.DoubleCharges {
		v.DoubleDebits = append(v.DoubleDebits, fmt.Sprintf("%s: charged under keys %v", dc.PaymentID, dc.Keys))
	}
	for _, key := range slices.Sorted(maps.Keys(r.Acked)) {
		if got := debits[key]; len(got) != 1 || got[0] != r.Acked[key] {
			v.Lost = append(v.Lost, fmt.Sprintf("%s: answered succeeded (%s), the bank debited %v", key, r.Acked[key], got))
		}
		if len(logged[key]) == 0 {
			v.Unlogged = append(v.Unlogged, key+": answered succeeded, not in the log")
		}
	}
	for _, key := range slices.Sorted(maps.Keys(r.Final)) {
		switch r.Final[key] {
		case gateway.Succeeded:
			if len(logged[key]) == 0 && r.Acked[key] == "" { // an acknowledged one is listed above
				v.Unlogged = append(v.Unlogged, key+": succeeded in the store, not in the log")
			}
		case gateway.Pending:
			v.Pending = append(v.Pending, key+": pending after the drain")
		}
	}
	v.Mislogged = mislogged(logged, debits, r.LogConflicts, r.Drained.LogRefused)
	if d := r.Drained; !d.drained() {
		v.Pending = append(v.Pending, fmt.Sprintf("the gateway never drained: %d pending, %d open, %d log entries queued",
			d.Pending, d.Open, d.LogQueued))
	}
	return v
}

// mislogged lists log entries that do not stand for exactly one debit.
func mislogged(logged map[string][]payments.Entry, debits map[string][]string, conflicts, refused int) []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(logged)) {
		es := logged[key]
		switch d := debits[key]; {
		case len(es) > 1:
			out = append(out, fmt.Sprintf("%s: logged %d times", key, len(es)))
		case len(d) == 0:
			out = append(out, key+": logged, never debited")
		case es[0].TransferID != d[0]:
			out = append(out, fmt.Sprintf("%s: logged with transfer %s, the bank's is %s", key, es[0].TransferID, d[0]))
		}
	}
	if conflicts > 0 {
		out = append(out, fmt.Sprintf("the log refused %d entries conflicting with a stored one", conflicts))
	}
	if refused > 0 {
		out = append(out, fmt.Sprintf("the gateway set %d log entries aside", refused))
	}
	return out
}

// A check that can only pass proves nothing: each invariant, broken alone
// in a run's records, is reported under its own name.
func TestCheckCrashRunReportsEachBrokenInvariant(t *testing.T) {
	good := func() crashRecords {
		r := crashRecords{Acked: map[string]string{"k1": "tr1"}, Final: map[string]gateway.State{}}
		for i, key := range []string{"k1", "k2"} {
			tr := fmt.Sprintf("tr%d", i+1)
			r.Transfers = append(r.Transfers, payments.TransferStatus{PaymentID: key, TransferID: tr, State: payments.TransferCompleted})
			r.Logged = append(r.Logged, payments.Entry{PaymentID: key, TransferID: tr})
			r.Final[key] = gateway.Succeeded
		}
		r.Transfers = append(r.Transfers, payments.TransferStatus{PaymentID: "k3", State: payments.TransferDeclined})
		r.Final["k3"], r.Final["k4"] = gateway.Declined, gateway.Rejected
		return r
	}
	cases := []struct {
		name   string
		mutate func(r *crashRecords)
		list   func(v crashVerdict) []string
	}{
		{"acknowledged, never debited", func(r *crashRecords) { r.Acked["k4"] = "tr9" }, func(v crashVerdict) []string { return v.Lost }},
		{"acknowledged with another transfer", func(r *crashRecords) { r.Acked["k1"] = "tr2" }, func(v crashVerdict) []string { return v.Lost }},
		{"debited, forgotten by the store", func(r *crashRecords) { delete(r.Final, "k2") }, func(v crashVerdict) []string { return v.Lost }},
		{"debited, rejected in the store", func(r *crashRecords) { r.Final["k2"] = gateway.Rejected }, func(v crashVerdict) []string { return v.Lost }},
		{"debited twice", func(r *crashRecords) {
			r.Transfers = append(r.Transfers, payments.TransferStatus{PaymentID: "k2", TransferID: "tr7", State: payments.TransferCompleted})
		}, func(v crashVerdict) []string { return v.DoubleDebits }},
		{"charged under two keys", func(r *crashRecords) {
			r.DoubleCharges = []sim.DoubleCharge{{PaymentID: "k1", Keys: []string{"a", "b"}}}
		},
			func(v crashVerdict) []string { return v.DoubleDebits }},
		{"acknowledged, unlogged", func(r *crashRecords) { r.Logged = r.Logged[1:] }, func(v crashVerdict) []string { return v.Unlogged }},
		{"succeeded in the store, unlogged", func(r *crashRecords) { r.Logged = r.Logged[:1] }, func(v crashVerdict) []string { return v.Unlogged }},
		{"logged twice", func(r *crashRecords) { r.Logged = append(r.Logged, r.Logged[0]) }, func(v crashVerdict) []string { return v.Mislogged }},
		{"logged, never debited", func(r *crashRecords) { r.Logged = append(r.Logged, payments.Entry{PaymentID: "k4"}) },
			func(v crashVerdict) []string { return v.Mislogged }},
		{"logged with another transfer", func(r *crashRecords) { r.Logged[1].TransferID = "tr1" }, func(v crashVerdict) []string { return v.Mislogged }},
		{"a conflicting entry", func(r *crashRecords) { r.LogConflicts = 1 }, func(v crashVerdict) []string { return v.Mislogged }},
		{"an entry set aside", func(r *crashRecords) { r.Drained.LogRefused = 1 }, func(v crashVerdict) []string { return v.Mislogged }},
		{"pending in the store", func(r *crashRecords) { r.Final["k4"] = gateway.Pending }, func(v crashVerdict) []string { return v.Pending }},
		{"never drained", func(r *crashRecords) { r.Drained.LogQueued = 3 }, func(v crashVerdict) []string { return v.Pending }},
	}
	v := checkCrashRun(good())
	assert.True(t, v.ok(), "a good run passes:\n%s", v)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.mutate(&r)
			v := checkCrashRun(r)
			assert.False(t, v.ok())
			assert.NotEmpty(t, tc.list(v), "reported under its own name:\n%s", v)
		})
	}
}
