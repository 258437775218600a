package dst

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/payments/store"
)

// Outcome is everything a world's run produced that the invariants judge:
// every answer a client got, and the bank's, the log's and the store's own
// records at the end. It is plain data; [Outcome.Digest] is a hash of all
// of it, equal for two runs of one world. The zero Outcome is an empty
// run, which [Check] judges like any other.
type Outcome struct {
	World World `json:"world"`
	// Err is set when the world could not run; nothing else is then.
	// Refused is set when that is because gateway.New refused the
	// world's configuration with a *resilience.ConfigError.
	Err     string `json:"err,omitempty"`
	Refused bool   `json:"refused,omitempty"`

	// Answers are the answers of every request a client sent, in the
	// order they came; Finals the Lookup of every payment key after the
	// drain.
	Answers []Answer `json:"answers"`
	Finals  []Answer `json:"finals"`
	// Payments lists the traffic: a key, its request's owner, whether it
	// reuses another payment's key.
	Payments []Payment `json:"payments"`

	Records       Records                   `json:"records"` // by key; claim tokens blanked
	Store         store.Stats               `json:"store"`
	Transfers     []payments.TransferStatus `json:"transfers"`
	DoubleCharges []sim.DoubleCharge        `json:"double_charges,omitempty"`
	Bank          sim.BankStats             `json:"bank"`
	// Transfers2, DoubleCharges2 and Bank2 are the second bank's own
	// records, in a two-bank world.
	Transfers2     []payments.TransferStatus    `json:"transfers2,omitempty"`
	DoubleCharges2 []sim.DoubleCharge           `json:"double_charges2,omitempty"`
	Bank2          *sim.BankStats               `json:"bank2,omitempty"`
	Entries        []payments.Entry             `json:"entries"`
	Log            sim.LogStats                 `json:"log"`
	Injected       map[string]sim.InjectorStats `json:"injected"`
	// BalanceBefore and BalanceAfter are the sums of every account, in
	// minor units per currency: money is only ever moved.
	BalanceBefore map[string]int64 `json:"balance_before"`
	BalanceAfter  map[string]int64 `json:"balance_after"`

	// Events are the breakers' state changes and refusals.
	Events []Event `json:"events"`
	// Peaks are the largest figures seen by the sampler and the
	// transports, for the memory bounds.
	Peaks Peaks `json:"peaks"`
	// DrainErr is Drain's error, when it gave up.
	DrainErr string `json:"drain_err,omitempty"`
	// Gateways counts the gateways started (1 + restarts); Grants the
	// steps the sequencer ordered, Ties those it could order only by
	// the scheduler (see the package doc).
	Gateways int `json:"gateways"`
	Grants   int `json:"grants"`
	Ties     int `json:"ties"`
}

// Answer is one answer a client got. It is plain data; the zero Answer is
// a request that got no answer.
type Answer struct {
	Payment int      `json:"payment"`
	Attempt int      `json:"attempt"`
	At      Duration `json:"at"`
	// Status is the HTTP status and RetryAfterHeader the Retry-After
	// header; both empty when no answer came (Error says why).
	Status           int      `json:"status,omitempty"`
	RetryAfterHeader string   `json:"retry_after_header,omitempty"`
	State            string   `json:"state,omitempty"`
	Reason           string   `json:"reason,omitempty"`
	TransferID       string   `json:"transfer_id,omitempty"`
	RetryAfter       Duration `json:"retry_after,omitzero"`
	Error            string   `json:"error,omitempty"`
}

// Payment is one payment of the traffic. It is plain data.
type Payment struct {
	Key    string                  `json:"key"`
	At     Duration                `json:"at"`
	Req    payments.PaymentRequest `json:"req"`
	Reused bool                    `json:"reused,omitempty"`
}

// Event is a breaker's state change or refusal. It is plain data.
type Event struct {
	Gateway int      `json:"gateway"` // which gateway of the run (1 = the first)
	At      Duration `json:"at"`
	Kind    string   `json:"kind"` // state_change or rejection
	Policy  string   `json:"policy"`
	Name    string   `json:"name"`
	From    string   `json:"from,omitempty"`
	To      string   `json:"to,omitempty"`
}

// Peaks are the largest figures of a run, for the memory bounds. It is
// plain data; the zero Peaks saw nothing.
type Peaks struct {
	// Outbox is the largest Outbox+Reserved the store reported, against
	// MaxOutbox.
	Outbox    int `json:"outbox"`
	MaxOutbox int `json:"max_outbox"`
	// LogBatches is the most log batches one gateway had in flight;
	// BatchEntries the most entries in one batch; StatusLookups the most
	// bank status lookups one gateway had in flight.
	LogBatches    int `json:"log_batches"`
	BatchEntries  int `json:"batch_entries"`
	StatusLookups int `json:"status_lookups"`
	// Goroutines is the most goroutines the run had beside the test's
	// own, and Clients how many client requests were in flight then.
	Goroutines int `json:"goroutines"`
	Clients    int `json:"clients"`
}

// Records are the store's records of a world's payments, by key. It is
// plain data.
type Records []store.Record

// MarshalJSON writes the records with the settled amount as text, empty
// before a settlement: store.Record's own JSON form cannot carry a
// record without one (payments.Money refuses to marshal a zero currency).
func (rs Records) MarshalJSON() ([]byte, error) {
	type view struct {
		store.Record
		Settled string `json:"settled,omitempty"` // shadows the record's own
	}
	out := make([]view, len(rs))
	for i, r := range rs {
		out[i] = view{Record: r}
		if m, _, ok := r.Settlement(); ok {
			out[i].Settled = m.String()
		}
	}
	return json.Marshal(out)
}

// Digest returns a hash of the whole outcome, world included, or the
// error that kept it from being encoded. The goroutine count is left out:
// it is the process's, which the runtime's own goroutines blur.
func (o *Outcome) Digest() (string, error) {
	c := *o
	c.Peaks.Goroutines, c.Peaks.Clients = 0, 0
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("dst: encoding an outcome: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
