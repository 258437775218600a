package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
)

// fleet opens n stores on one schema, each with its own pool, as n
// gateway processes would.
func fleet(t testing.TB, n int, cfg pgstore.Config) []*pgstore.Store {
	t.Helper()
	cfg.Schema = newSchema(t)
	stores := make([]*pgstore.Store, n)
	for i := range stores {
		stores[i] = open(t, cfg)
	}
	return stores
}

// Four instances, four payers each, pay the same payments at once while
// every instance reconciles and replays: each payment is worked on by one
// claimant at a time and settled once, each pending payment resolved by
// one reconciler, each log entry delivered once.
func TestFleetSettlesEachPaymentOnce(t *testing.T) {
	const (
		instances = 4
		payers    = 4
		n         = 48
	)
	stores := fleet(t, instances, pgstore.Config{})
	var (
		active, settled, resolved, delivered [n]atomic.Int32
		payersDone                           atomic.Bool
		wg, bg                               sync.WaitGroup
	)
	for i, s := range stores {
		owner := fmt.Sprintf("gw-%d", i)
		for p := range payers {
			wg.Go(func() {
				for k := range n {
					j := (k + 7*(i*payers+p)) % n
					req := request(j)
					res, err := s.Claim(ctx, req, lease(owner, t0))
					if !assert.NoError(t, err) || res.Status != store.Claimed {
						continue
					}
					assert.True(t, active[j].CompareAndSwap(0, 1), "payment %d claimed twice at once", j)
					settled[j].Add(1)
					tok := res.Record.Claim.Token
					assert.NoError(t, s.MarkStarted(ctx, req.IdempotencyKey, tok, "bank"))
					result, entry := success, entryOf(req)
					if j%3 == 0 { // the bank timed out: the reconciler will learn the outcome
						result, entry = store.Result{State: store.Pending, Reason: "timeout"}, nil
					}
					active[j].Store(0)
					assert.NoError(t, s.Finish(ctx, req.IdempotencyKey, tok, result, entry))
				}
			})
		}
		bg.Go(func() { reconcile(t, s, owner, &payersDone, active[:], resolved[:]) })
		bg.Go(func() { replay(t, s, owner, &payersDone, delivered[:]) })
	}
	wg.Wait()
	payersDone.Store(true)
	bg.Wait()

	for j := range n {
		assert.Equal(t, int32(1), settled[j].Load(), "payment %d settled once", j)
		assert.Equal(t, int32(1), delivered[j].Load(), "payment %d delivered once", j)
		if j%3 == 0 {
			assert.Equal(t, int32(1), resolved[j].Load(), "pending payment %d resolved once", j)
		}
	}
	st, err := stores[0].Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[store.State]int{store.Succeeded: n}, st.Payments)
	assert.Zero(t, st.Outbox+st.Reserved+st.Claimed)
	assert.Empty(t, st.Problems)
}

// reconcile resolves due payments as succeeded until the payers are done
// and nothing is due.
func reconcile(t *testing.T, s store.Store, owner string, done *atomic.Bool, active, resolved []atomic.Int32) {
	for {
		last := done.Load()
		due, err := s.DuePending(ctx, lease(owner, t0), t0, 2)
		if !assert.NoError(t, err) {
			return
		}
		for _, r := range due {
			var j int
			_, _ = fmt.Sscanf(r.Key(), "pay-%05d", &j)
			assert.True(t, active[j].CompareAndSwap(0, 1), "payment %d claimed twice at once", j)
			resolved[j].Add(1)
			active[j].Store(0)
			assert.NoError(t, s.Finish(ctx, r.Key(), r.Claim.Token, success, entryOf(r.Request)))
		}
		if last && len(due) == 0 {
			return
		}
	}
}

// replay delivers queued entries until the payers are done and the
// outbox is empty.
func replay(t *testing.T, s store.Store, owner string, done *atomic.Bool, delivered []atomic.Int32) {
	for {
		last := done.Load()
		es, err := s.Next(ctx, lease(owner, t0), 3)
		if !assert.NoError(t, err) {
			return
		}
		ids := make([]string, len(es))
		for i, e := range es {
			var j int
			_, _ = fmt.Sscanf(e.PaymentID, "pay-%05d", &j)
			delivered[j].Add(1)
			ids[i] = e.PaymentID
		}
		assert.NoError(t, s.Ack(ctx, ids...))
		if last && len(es) == 0 {
			st, err := s.Stats(ctx)
			if !assert.NoError(t, err) || st.Outbox+st.Pending == 0 {
				return
			}
		}
	}
}

// checkExclusive checks a history of grants (claims of a payment, or
// leases of a log entry) against the rule that makes them exclusive: a
// grant to one owner lasts ttl from the time the owner gave, so two grants
// to different owners must be at least ttl apart. Each owner's times must
// never go back (one goroutine per owner reading a shared clock), so that
// an owner's renewal never shortens its own grant. Grants ended early
// (Finish, Ack, Expire) must not be in the history.
func checkExclusive(grants map[string][]grant, ttl int64) error {
	var errs []error
	for key, gs := range grants {
		for i, a := range gs {
			for _, b := range gs[i+1:] {
				if a.owner != b.owner && abs(a.at-b.at) < ttl {
					errs = append(errs, fmt.Errorf("%s: granted to %s at %d and to %s at %d, %d apart (ttl %d)",
						key, a.owner, a.at, b.owner, b.at, abs(a.at-b.at), ttl))
				}
			}
		}
	}
	return errors.Join(errs...)
}

type grant struct {
	owner string
	at    int64 // seconds after t0
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestCheckExclusiveCatchesOverlaps(t *testing.T) {
	good := map[string][]grant{"p": {{"a", 0}, {"a", 30}, {"b", 90}, {"c", 150}, {"c", 155}, {"b", 215}}}
	assert.NoError(t, checkExclusive(good, 60))
	bad := map[string][]grant{"p": {{"a", 0}, {"a", 30}, {"b", 60}}} // b while a's renewal lives
	assert.ErrorContains(t, checkExclusive(bad, 60), "granted to a at 30 and to b at 60")
}

// Four instances race Claim, DuePending and Next on a few keys while a
// shared clock runs past their leases: claims and leases change hands
// (takeovers), and never overlap in time. Nothing is finished or
// acknowledged, so that every grant lasts its full lease.
func TestFleetLeasesOneAtATime(t *testing.T) {
	const (
		instances = 4
		keys      = 4
		entries   = 4
		steps     = 90
		ttl       = 60 // seconds
	)
	stores := fleet(t, instances, pgstore.Config{})
	for j := range entries { // queued entries, for Next
		req := request(100 + j)
		res, err := stores[0].Claim(ctx, req, lease("setup", t0))
		require.NoError(t, err)
		require.NoError(t, stores[0].Finish(ctx, req.IdempotencyKey, res.Record.Claim.Token, success, entryOf(req)))
	}
	var (
		clock  atomic.Int64 // seconds after t0; only goes forward
		mu     sync.Mutex   // protects claims and leases
		claims = map[string][]grant{}
		leases = map[string][]grant{}
		wg     sync.WaitGroup
	)
	record := func(m map[string][]grant, key, owner string, at int64) {
		mu.Lock()
		defer mu.Unlock()
		m[key] = append(m[key], grant{owner, at})
	}
	for i, s := range stores {
		owner := fmt.Sprintf("gw-%d", i)
		wg.Go(func() { // one goroutine per owner: its times never go back
			for step := range steps {
				at := clock.Add(int64(step%3) * 7)
				l := store.Lease{Owner: owner, Now: t0.Add(sec(at)), TTL: sec(ttl)}
				switch step % 3 {
				case 0:
					req := request(step % keys)
					res, err := s.Claim(ctx, req, l)
					if assert.NoError(t, err) && res.Status == store.Claimed {
						record(claims, req.IdempotencyKey, owner, at)
					}
				case 1:
					due, err := s.DuePending(ctx, l, l.Now, 1)
					if assert.NoError(t, err) {
						for _, r := range due {
							record(claims, r.Key(), owner, at)
						}
					}
				case 2:
					es, err := s.Next(ctx, l, 2)
					if assert.NoError(t, err) {
						for _, e := range es {
							record(leases, e.PaymentID, owner, at)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	assert.NoError(t, checkExclusive(claims, ttl), "payment claims")
	assert.NoError(t, checkExclusive(leases, ttl), "outbox leases")
	assert.Greater(t, owners(claims), 1, "claims changed hands: the check had something to check")
	assert.Greater(t, owners(leases), 1, "leases changed hands")
}

// owners returns the most owners any one key had.
func owners(grants map[string][]grant) int {
	most := 0
	for _, gs := range grants {
		seen := map[string]bool{}
		for _, g := range gs {
			seen[g.owner] = true
		}
		most = max(most, len(seen))
	}
	return most
}

func sec(n int64) time.Duration { return time.Duration(n) * time.Second }
