package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/store"
)

// runModel drives a store with random sequences of every operation, on a
// few keys, two owners and a clock that jumps past claim expiries, and
// checks each answer against a model written from the contract, and the
// whole store against the model after every step.
func runModel(t *testing.T, open Factory, rounds int) {
	rapid.Check(t, func(rt *rapid.T) {
		s := open(t, store.Config{MaxOutbox: 3})
		defer func() { _ = s.Close() }()
		m := &model{s: s, max: 3, now: t0, recs: map[string]*mrec{}, leases: map[string]store.Claim{}}
		actions := map[string]func(*rapid.T){
			"claim": m.claim, "settle": m.settle, "start": m.start, "finish": m.finish,
			"postpone": m.postpone, "due": m.due, "expire": m.expire, "advance": m.advance,
			"next": m.next, "ack": m.ack, "refuse": m.refuse, "refusedBy": m.refusedBy, "": m.check,
		}
		for range rounds { // longer histories than one Repeat's: queues fill, claims expire
			rt.Repeat(actions)
		}
	})
}

// mrec is the model of one payment.
type mrec struct {
	req     payments.PaymentRequest
	state   store.State
	token   string
	owner   string
	expires time.Time
	started bool
	checks  int
	next    time.Time
	log     store.LogState
	refused []string // banks that refused it, in order
}

type model struct {
	s       store.Store
	max     int
	now     time.Time
	recs    map[string]*mrec
	queue   []string               // payment IDs, oldest first
	leases  map[string]store.Claim // outbox leases by payment ID
	refused int
}

var (
	keys   = []string{"k-0", "k-1", "k-2", "k-3"}
	owners = []string{"gw-a", "gw-b"}
)

func (m *model) used() int {
	n := len(m.queue)
	for _, r := range m.recs {
		if r.state.Reserves() {
			n++
		}
	}
	return n
}

func (m *model) live(r *mrec) bool { return r.token != "" && m.now.Before(r.expires) }

func (m *model) take(r *mrec, owner, token string) {
	r.token, r.owner, r.expires = token, owner, m.now.Add(ttl)
}

func (m *model) claim(t *rapid.T) {
	k := rapid.SampledFrom(keys).Draw(t, "key")
	cents := rapid.SampledFrom([]int64{100, 100, 100, 200}).Draw(t, "cents") // 200: a conflict
	owner := rapid.SampledFrom(owners).Draw(t, "owner")
	req := request(k, cents)
	res, err := m.s.Claim(ctx, req, lease(owner, m.now))
	r := m.recs[k]
	switch {
	case r == nil || (r.req == req && !m.live(r) && r.state == store.Rejected):
		if m.used() >= m.max {
			expectErr(t, err, store.ErrFull, "claim of %s when full", k)
			return
		}
		fallthrough
	case r.req == req && !m.live(r) && r.state == "":
		expectStatus(t, res, err, store.Claimed)
		if r == nil {
			r = &mrec{req: req}
			m.recs[k] = r
		} else if res.TakenOver != (r.token != "") {
			t.Fatalf("claim of %s: TakenOver %v, want %v", k, res.TakenOver, r.token != "")
		}
		if r.state == store.Rejected {
			r.started, r.refused = false, nil // a rejected payment was never processed: it starts afresh
		}
		r.state = ""
		m.take(r, owner, res.Record.Claim.Token)
	case r.req != req:
		expectStatus(t, res, err, store.Conflict)
	case m.live(r):
		expectStatus(t, res, err, store.InFlight)
	default:
		expectStatus(t, res, err, store.Replayed)
	}
}

// token draws the token a write presents: mostly the current one of a
// payment held by a claim.
func (m *model) token(t *rapid.T) (string, *mrec, string) {
	var held []string
	for _, k := range keys {
		if r := m.recs[k]; r != nil && r.token != "" {
			held = append(held, k)
		}
	}
	if len(held) == 0 || rapid.IntRange(0, 4).Draw(t, "any key") == 0 {
		held = keys
	}
	k := rapid.SampledFrom(held).Draw(t, "key")
	r := m.recs[k]
	if r == nil || rapid.IntRange(0, 9).Draw(t, "stale") == 0 {
		return k, r, "stale-token"
	}
	return k, r, r.token
}

// write checks the error of a claimant's write and reports whether it
// should have succeeded.
func (m *model) write(t *rapid.T, r *mrec, token string, err error) bool {
	switch {
	case r == nil:
		expectErr(t, err, store.ErrNotFound, "write to an unknown key")
	case token == "" || token != r.token:
		expectErr(t, err, store.ErrClaimLost, "write with a stale token")
	default:
		return true
	}
	return false
}

func (m *model) settle(t *rapid.T) {
	k, r, tok := m.token(t)
	err := m.s.SaveSettlement(ctx, k, tok, payments.New(100, payments.USD), nil)
	if m.write(t, r, tok, err) && err != nil {
		t.Fatalf("settle %s: %v", k, err)
	}
}

func (m *model) start(t *rapid.T) {
	k, r, tok := m.token(t)
	err := m.s.MarkStarted(ctx, k, tok, "bank")
	if m.write(t, r, tok, err) {
		if err != nil {
			t.Fatalf("start %s: %v", k, err)
		}
		r.started, r.state = true, store.Pending
	}
}

func (m *model) finish(t *rapid.T) {
	k, r, tok := m.token(t)
	st := rapid.SampledFrom([]store.State{store.Succeeded, store.Succeeded, store.Declined, store.Rejected, store.Pending}).Draw(t, "state")
	var e *payments.Entry
	if st == store.Succeeded && r != nil && rapid.IntRange(0, 3).Draw(t, "entry") > 0 {
		e = entryFor(r.req)
	}
	err := m.s.Finish(ctx, k, tok, store.Result{State: st, Reason: "model"}, e)
	if !m.write(t, r, tok, err) {
		return
	}
	if err != nil {
		t.Fatalf("finish %s: %v", k, err)
	}
	r.state, r.token = st, ""
	if e != nil && r.log == store.NotLogged {
		r.log = store.Queued
		m.queue = append(m.queue, k)
	}
}

func (m *model) postpone(t *rapid.T) {
	k, r, tok := m.token(t)
	err := m.s.Postpone(ctx, k, tok, m.now.Add(time.Second), time.Second)
	if !m.write(t, r, tok, err) {
		return
	}
	if r.state != store.Pending {
		expectErr(t, err, store.ErrInvalid, "postpone in state %q", r.state)
		return
	}
	if err != nil {
		t.Fatalf("postpone %s: %v", k, err)
	}
	r.checks, r.next, r.token = r.checks+1, m.now.Add(time.Second), ""
}

func (m *model) due(t *rapid.T) {
	owner := rapid.SampledFrom(owners).Draw(t, "owner")
	got, err := m.s.DuePending(ctx, lease(owner, m.now), m.now, 0)
	if err != nil {
		t.Fatalf("due: %v", err)
	}
	var want []string
	for _, k := range keys {
		r := m.recs[k]
		if r != nil && !m.live(r) && (r.state == store.Pending && !r.next.After(m.now) || r.state == "" && !r.started) {
			want = append(want, k)
		}
	}
	var gotKeys []string
	for _, rec := range got {
		gotKeys = append(gotKeys, rec.Key())
		m.take(m.recs[rec.Key()], owner, rec.Claim.Token)
	}
	slices.Sort(gotKeys)
	if !slices.Equal(gotKeys, want) {
		t.Fatalf("due at %v: got %v, want %v", m.now, gotKeys, want)
	}
}

func (m *model) expire(t *rapid.T) {
	owner := rapid.SampledFrom(owners).Draw(t, "owner")
	n, err := m.s.Expire(ctx, owner)
	if err != nil {
		t.Fatalf("expire: %v", err)
	}
	want := 0
	for _, r := range m.recs {
		if r.token != "" && r.owner == owner {
			r.token = ""
			want++
		}
	}
	for id, l := range m.leases {
		if l.Owner == owner {
			delete(m.leases, id)
		}
	}
	if n != want {
		t.Fatalf("expire %s: %d claims ended, want %d", owner, n, want)
	}
}

func (m *model) advance(t *rapid.T) {
	m.now = m.now.Add(rapid.SampledFrom([]time.Duration{time.Second, 30 * time.Second, ttl + time.Second}).Draw(t, "by"))
}

func (m *model) next(t *rapid.T) {
	owner := rapid.SampledFrom(owners).Draw(t, "owner")
	limit := rapid.IntRange(0, 3).Draw(t, "limit")
	got, err := m.s.Next(ctx, lease(owner, m.now), limit)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	var want []string
	for _, id := range m.queue {
		if l, ok := m.leases[id]; ok && l.Owner != owner && m.now.Before(l.Expires) {
			continue
		}
		if limit > 0 && len(want) == limit {
			break
		}
		want = append(want, id)
		m.leases[id] = store.Claim{Owner: owner, Expires: m.now.Add(ttl)}
	}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("next(%s, %d) at %v: got %v, want %v", owner, limit, m.now, ids(got), want)
	}
}

func (m *model) ack(t *rapid.T) {
	if len(m.queue) == 0 {
		t.Skip("nothing queued")
	}
	n := rapid.IntRange(1, len(m.queue)).Draw(t, "n")
	acked := m.queue[:n]
	if err := m.s.Ack(ctx, acked...); err != nil {
		t.Fatalf("ack: %v", err)
	}
	for _, id := range acked {
		m.recs[id].log = store.Delivered
		delete(m.leases, id)
	}
	m.queue = slices.Clone(m.queue[n:])
}

func (m *model) refuse(t *rapid.T) {
	if len(m.queue) == 0 {
		t.Skip("nothing queued")
	}
	i := rapid.IntRange(0, len(m.queue)-1).Draw(t, "i")
	id := m.queue[i]
	if err := m.s.Refuse(ctx, id, "refused", m.now); err != nil {
		t.Fatalf("refuse: %v", err)
	}
	m.recs[id].log = store.SetAside
	m.queue = slices.Delete(slices.Clone(m.queue), i, i+1)
	delete(m.leases, id)
	m.refused++
}

// check compares every record and the counts with the model.
func (m *model) check(t *rapid.T) {
	want := store.Stats{Payments: map[store.State]int{}, Outbox: len(m.queue), Refused: m.refused, MaxOutbox: m.max}
	for k, r := range m.recs {
		got, err := m.s.Lookup(ctx, k)
		if err != nil {
			t.Fatalf("lookup %s: %v", k, err)
		}
		if got.Request != r.req || got.Result.State != r.state || got.Claim.Token != r.token ||
			got.Started != r.started || got.Checks != r.checks || got.Log != r.log || !slices.Equal(got.Refused, r.refused) {
			t.Fatalf("record %s: got %+v, model %+v", k, got, *r)
		}
		switch {
		case r.state == "":
			want.Open++
		default:
			want.Payments[r.state]++
		}
		if r.state == store.Pending {
			want.Pending++
		}
		if r.state.Reserves() {
			want.Reserved++
		}
		if r.token != "" {
			want.Claimed++
		}
	}
	got, err := m.s.Stats(ctx)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	got.Problems = nil
	if !equalStats(got, want) {
		t.Fatalf("stats: got %+v, want %+v", got, want)
	}
	if got.Outbox+got.Reserved > m.max {
		t.Fatalf("outbox bound broken: %d queued + %d reserved > %d", got.Outbox, got.Reserved, m.max)
	}
}

func equalStats(a, b store.Stats) bool {
	pa, pb := a.Payments, b.Payments
	a.Payments, b.Payments = nil, nil
	return equalCounts(pa, pb) && a.Open == b.Open && a.Pending == b.Pending && a.Claimed == b.Claimed &&
		a.Outbox == b.Outbox && a.Refused == b.Refused && a.Reserved == b.Reserved && a.MaxOutbox == b.MaxOutbox
}

func equalCounts(a, b map[store.State]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func expectStatus(t *rapid.T, res store.ClaimResult, err error, want store.ClaimStatus) {
	if err != nil || res.Status != want {
		t.Fatalf("claim %s: got %v (%v), want %v", res.Record.Key(), res.Status, err, want)
	}
}

func expectErr(t *rapid.T, err, want error, format string, args ...any) {
	if !errors.Is(err, want) {
		t.Fatalf(format+": got error %v, want %v", append(args, err, want)...)
	}
}
