package gateway

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/payments"
)

// resultJSON is the wire form of a Result.
type resultJSON struct {
	PaymentID         string          `json:"payment_id"`
	State             State           `json:"state"`
	Reason            string          `json:"reason"`
	Error             string          `json:"error,omitempty"`
	RetryAfter        string          `json:"retry_after,omitempty"`
	RetryAfterSeconds float64         `json:"retry_after_seconds,omitempty"`
	TransferID        string          `json:"transfer_id,omitempty"`
	Bank              string          `json:"bank,omitempty"`
	RefusedBy         []string        `json:"refused_by,omitempty"`
	Settled           payments.Money  `json:"settled,omitzero"`
	Quote             *payments.Quote `json:"quote,omitempty"`
	QuoteFallback     bool            `json:"quote_fallback,omitempty"`
	QuoteAge          string          `json:"quote_age,omitempty"`
	Replayed          bool            `json:"replayed,omitempty"`
	Latency           string          `json:"latency,omitempty"`
}

// MarshalJSON writes r with snake_case keys, durations as Go duration
// strings (RetryAfter also in seconds, for a client's timer), zero fields
// left out and Err as its text:
//
//	{"payment_id":"order-1","state":"rejected","reason":"not attempted: …",
//	 "error":"…","retry_after":"2s","retry_after_seconds":2,
//	 "refused_by":["primary","backup"],"latency":"1.5ms"}
func (r Result) MarshalJSON() ([]byte, error) {
	w := resultJSON{PaymentID: r.PaymentID, State: r.State, Reason: r.Reason, RetryAfter: duration(r.RetryAfter),
		RetryAfterSeconds: r.RetryAfter.Seconds(), TransferID: r.TransferID, Bank: r.Bank, RefusedBy: r.RefusedBy, Settled: r.Settled, Quote: r.Quote,
		QuoteFallback: r.QuoteFallback, QuoteAge: duration(r.QuoteAge), Replayed: r.Replayed, Latency: duration(r.Latency)}
	if r.Err != nil {
		w.Error = r.Err.Error()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes; Err comes back as an error
// with the same text, and retry_after_seconds is ignored.
func (r *Result) UnmarshalJSON(data []byte) error {
	var w resultJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var out Result
	var err error
	for _, d := range []struct {
		name string
		s    string
		to   *time.Duration
	}{{"retry_after", w.RetryAfter, &out.RetryAfter}, {"quote_age", w.QuoteAge, &out.QuoteAge}, {"latency", w.Latency, &out.Latency}} {
		if d.s == "" {
			continue
		}
		if *d.to, err = time.ParseDuration(d.s); err != nil {
			return fmt.Errorf("gateway: result %s: %w", d.name, err)
		}
	}
	out.PaymentID, out.State, out.Reason, out.TransferID = w.PaymentID, w.State, w.Reason, w.TransferID
	out.Bank, out.RefusedBy = w.Bank, w.RefusedBy
	out.Settled, out.Quote, out.QuoteFallback, out.Replayed = w.Settled, w.Quote, w.QuoteFallback, w.Replayed
	if w.Error != "" {
		out.Err = storedError(w.Error)
	}
	*r = out
	return nil
}

func duration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
