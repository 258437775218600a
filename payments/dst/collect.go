package dst

import (
	"context"
	"sort"
	"sync"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/sim"
)

// Bounds on the goroutines of a world, against which the sampler judges
// it: a base for the gateway's loops, health checks, reconciler workers
// and log batches (of the gateway up and of a crashed one winding down),
// and a share per client request in flight (the client, the in-process
// request to the gateway, the gateway's calls of the services and their
// handlers).
const (
	goroutineBase       = 150
	goroutinesPerClient = 12
)

// observedLog is the simulated log, seen by the log's HTTP handler: it
// counts the entries of the largest batch it was sent.
type observedLog struct {
	*sim.Log
	r *runner

	mu      sync.Mutex // protects largest
	largest int
}

func (l *observedLog) AppendBatch(ctx context.Context, entries []payments.Entry) ([]error, error) {
	l.mu.Lock()
	l.largest = max(l.largest, len(entries))
	l.mu.Unlock()
	return l.Log.AppendBatch(ctx, entries)
}

// sample records the store's and the process's figures now.
func (r *runner) sample() {
	st, err := r.store.Stats(context.Background())
	g := goroutines() - r.baseGoroutines
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.out.Peaks.Outbox = max(r.out.Peaks.Outbox, st.Outbox+st.Reserved)
		r.out.Peaks.MaxOutbox = st.MaxOutbox
	}
	worst := r.out.Peaks.Goroutines - goroutinesPerClient*r.out.Peaks.Clients
	if g-goroutinesPerClient*r.inFlight > worst || r.out.Peaks.Goroutines == 0 {
		r.out.Peaks.Goroutines, r.out.Peaks.Clients = g, r.inFlight
	}
}

// collect reads the bank's, the log's and the store's records at the end.
func (r *runner) collect() {
	ctx := context.Background()
	if inc := r.current(); inc != nil {
		r.sampleIncarnation(inc)
	}
	o := r.out
	o.Gateways = r.gateways
	seen := map[string]bool{}
	for _, p := range r.traffic {
		o.Payments = append(o.Payments, Payment{Key: p.req.IdempotencyKey, At: Duration(p.at), Req: p.req, Reused: p.reused})
		if seen[p.req.IdempotencyKey] {
			continue
		}
		seen[p.req.IdempotencyKey] = true
		if rec, err := r.store.Lookup(ctx, p.req.IdempotencyKey); err == nil {
			rec.Claim.Token = "" // random, and nothing depends on its value
			o.Records = append(o.Records, rec)
		}
	}
	sort.Slice(o.Records, func(i, j int) bool { return o.Records[i].Key() < o.Records[j].Key() })
	if st, err := r.store.Stats(ctx); err == nil {
		o.Store = st
		o.Peaks.Outbox = max(o.Peaks.Outbox, st.Outbox+st.Reserved)
		o.Peaks.MaxOutbox = st.MaxOutbox
	}
	o.Transfers, o.DoubleCharges, o.Bank = r.bank.Transfers(), r.bank.DoubleCharges(), r.bank.Stats()
	if r.bank2 != nil {
		st := r.bank2.Stats()
		o.Transfers2, o.DoubleCharges2, o.Bank2 = r.bank2.Transfers(), r.bank2.DoubleCharges(), &st
	}
	o.Entries, o.Log = r.simLog.Entries(), r.simLog.Stats()
	for dep, inj := range r.inj {
		o.Injected[dep] = inj.Stats()
	}
	o.BalanceAfter = r.balances()
	r.log.mu.Lock()
	o.Peaks.BatchEntries = r.log.largest
	r.log.mu.Unlock()
	o.Grants, o.Ties = r.seq.counts()
}
