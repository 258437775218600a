package dst

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/store"
)

// Each invariant's check must be able to fail. Every test here runs one
// world twice: with the gateway as it is, where the invariant holds, and
// with the gateway broken from outside in the one way the invariant is
// about, where Check must report it.

func ms(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }

// plainWorld is a healthy world with a little latency.
func plainWorld(seed uint64) World {
	return World{Seed: seed, Duration: Duration(20 * time.Second),
		Load:   Load{Shape: Steady, Rate: 5, Cross: 20},
		Client: Client{Retries: 2, RetryWait: ms(500)},
		Bank:   Faults{Latency: ms(2), Jitter: ms(3)}, FX: Faults{Latency: ms(1)}, Log: Faults{Latency: ms(1)}}
}

// judge runs w with h and returns the invariants Check reports broken.
func judge(t *testing.T, w World, h hooks) []string {
	t.Helper()
	o := run(t, w, h)
	require.Empty(t, o.Err)
	var broken []string
	for _, v := range Check(o) {
		t.Logf("%s", v)
		broken = append(broken, v.Invariant)
	}
	return broken
}

// assertCatches checks that w keeps every invariant as it is and breaks
// the given one with h.
func assertCatches(t *testing.T, invariant string, w World, h hooks) {
	t.Helper()
	assert.Empty(t, judge(t, w, hooks{drainLimit: h.drainLimit}), "the gateway as it is keeps every invariant")
	assert.Contains(t, judge(t, w, h), invariant, "the broken gateway is caught")
}

// rekeyingBank retries a transfer under a new idempotency key: each
// repeat of a key is sent as key+"-again", the way a client that builds
// its key per attempt would.
type rekeyingBank struct {
	*httpapi.BankClient
	mu   sync.Mutex // protects sent
	sent map[string]bool
}

func (b *rekeyingBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	b.mu.Lock()
	again := b.sent[req.IdempotencyKey]
	b.sent[req.IdempotencyKey] = true
	b.mu.Unlock()
	if again {
		req.IdempotencyKey += "-again"
	}
	return b.BankClient.Transfer(ctx, req)
}

func TestNoDoubleDebitCatchesARetryUnderANewKey(t *testing.T) {
	w := plainWorld(1)
	w.Bank.LostReplyBP = 3000 // replies lost: the gateway sends again
	assertCatches(t, NoDoubleDebit, w, hooks{bank: func(c *httpapi.BankClient) payments.Bank {
		return &rekeyingBank{BankClient: c, sent: map[string]bool{}}
	}})
}

// overloaded claims the bank refused unprocessed (NotProcessed).
type overloaded struct{}

func (overloaded) Error() string             { return "dst: the bank is overloaded (a lie)" }
func (overloaded) Is(target error) bool      { return target == httpapi.ErrOverloaded }
func (overloaded) RetryAfter() time.Duration { return 0 }

// lyingBank moves the money of payments whose key ends in 7, then
// reports every attempt refused unprocessed: the gateway answers
// rejected, not attempted.
type lyingBank struct{ *httpapi.BankClient }

func (b lyingBank) Transfer(ctx context.Context, req payments.TransferRequest) (payments.Receipt, error) {
	rc, err := b.BankClient.Transfer(ctx, req)
	if err == nil && strings.HasSuffix(req.IdempotencyKey, "7") {
		return payments.Receipt{}, overloaded{}
	}
	return rc, err
}

func TestNoLostPaymentCatchesADebitAnsweredRejected(t *testing.T) {
	assertCatches(t, NoLostPayment, plainWorld(2), hooks{bank: func(c *httpapi.BankClient) payments.Bank {
		return lyingBank{c}
	}})
}

// entryDroppingStore records payments but queues no log entry.
type entryDroppingStore struct{ store.Store }

func (s entryDroppingStore) Finish(ctx context.Context, key, token string, r store.Result, _ *payments.Entry) error {
	return s.Store.Finish(ctx, key, token, r, nil)
}

func TestLoggedOnceCatchesAnEntryNeverQueued(t *testing.T) {
	assertCatches(t, LoggedOnce, plainWorld(3), hooks{store: func(s store.Store) store.Store {
		return entryDroppingStore{s}
	}})
}

// blindBank cannot look a transfer up: every status lookup fails.
type blindBank struct{ *httpapi.BankClient }

func (blindBank) Status(context.Context, string) (payments.TransferStatus, error) {
	return payments.TransferStatus{}, errors.New("dst: status lookups are broken")
}

func TestNothingPendingCatchesAReconcilerThatNeverLearns(t *testing.T) {
	w := plainWorld(4)
	w.Bank.LostReplyBP = 6000 // outcomes only the status lookup can tell
	assertCatches(t, NothingPending, w, hooks{drainLimit: 2 * time.Minute,
		bank: func(c *httpapi.BankClient) payments.Bank { return blindBank{c} }})
}

// strictProbe probes the bank with a 100ms deadline, stricter than the
// calls it protects: issue 12's slow-but-working bank held down.
type strictProbe struct{ *httpapi.BankClient }

func (b strictProbe) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	return b.BankClient.Health(ctx)
}

func TestNeverHeldOpenCatchesAProbeStricterThanItsCalls(t *testing.T) {
	w := plainWorld(5)
	w.Bank = Faults{Latency: ms(150)} // slow, well within the 2s call timeout
	assertCatches(t, NeverHeldOpen, w, hooks{bank: func(c *httpapi.BankClient) payments.Bank { return strictProbe{c} }})
}

func TestMemoryBoundedCatchesAnOutboxPastItsBound(t *testing.T) {
	w := plainWorld(6)
	w.Gateway.MaxOutbox = 20
	w.Log.Windows = []Window{{Kind: Outage, Start: 0, End: ms(15000)}} // the outbox fills
	assertCatches(t, MemoryBounded, w, hooks{storeBound: 10000})
}

// reasonless strips the reason from every declined answer.
func reasonless(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var m map[string]any
		if json.Unmarshal(body, &m) == nil && m["state"] == "declined" {
			m["reason"] = ""
			body, _ = json.Marshal(m)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func TestDefiniteAnswersCatchesAnAnswerWithoutReason(t *testing.T) {
	w := plainWorld(7)
	w.Load.Broke = 30 // declines
	assertCatches(t, DefiniteAnswers, w, hooks{handler: reasonless})
}

// TestNoDoubleDebitCatchesAFailoverAfterAnUnknownOutcome breaks the
// failover rule of issue 22: a gateway that takes every error of the first
// bank, a lost reply included, for "not processed" sends payments the
// first bank did debit to the second — money moved twice, which only the
// two banks' records together show.
func TestNoDoubleDebitCatchesAFailoverAfterAnUnknownOutcome(t *testing.T) {
	w := plainWorld(8)
	w.Bank.LostReplyBP = 6000 // outcomes unknown: debited, the reply lost
	w.Bank2 = &Faults{Latency: ms(2)}
	assert.Empty(t, judge(t, w, hooks{}), "the gateway as it is keeps every invariant")

	o := run(t, w, hooks{config: func(c *gateway.Config) { c.NotProcessed = func(error) bool { return true } }})
	require.Empty(t, o.Err)
	var detail string
	for _, v := range Check(o) {
		if v.Invariant == NoDoubleDebit {
			detail = v.Detail
		}
	}
	t.Logf("%s: %s", NoDoubleDebit, detail)
	assert.Contains(t, detail, "debited at two banks", "the broken gateway is caught by both banks' records")
}
