package sqlitestore

import (
	"time"

	"github.com/riprap-go/riprap/payments"
)

// queue is the outbox's queued entries (those not set aside) held in
// memory, oldest first, with their leases. The table stays the durable
// record; this copy lets Next answer without a transaction: a lease needs
// no durability here, since one process owns the file and the leases of
// its previous run end when it reopens the file (as Expire would end
// them). It holds at most MaxOutbox entries, as the table does.
//
// The writer changes it only after committing the batch that changed the
// table, so Next never hands out an entry that is not durable. Protected
// by Store.mu.
type queue struct {
	items []*queued // by seq; removed ones stay until compacted
	byID  map[string]*queued
}

// queued is one entry of the queue.
type queued struct {
	seq     int64
	entry   payments.Entry
	owner   string // lease, in memory only
	expires time.Time
	gone    bool
}

func newQueue() queue { return queue{byID: map[string]*queued{}} }

// add appends q, whose seq is above every other's.
func (u *queue) add(q *queued) {
	u.items = append(u.items, q)
	u.byID[q.entry.PaymentID] = q
}

// remove takes the entry of a payment out, if queued.
func (u *queue) remove(id string) {
	q, ok := u.byID[id]
	if !ok {
		return
	}
	q.gone = true
	delete(u.byID, id)
	if len(u.byID) < len(u.items)/2 {
		kept := u.items[:0]
		for _, q := range u.items {
			if !q.gone {
				kept = append(kept, q)
			}
		}
		clear(u.items[len(kept):])
		u.items = kept
	}
}

// next leases to owner, until expires, up to limit (all when limit <= 0)
// entries that are free at now or already owner's, oldest first.
func (u *queue) next(owner string, now, expires time.Time, limit int) []payments.Entry {
	var out []payments.Entry
	for _, q := range u.items {
		if limit > 0 && len(out) == limit {
			break
		}
		if q.gone || (q.owner != owner && now.Before(q.expires)) {
			continue
		}
		q.owner, q.expires = owner, expires
		out = append(out, q.entry)
	}
	return out
}

// release ends owner's leases.
func (u *queue) release(owner string) {
	for _, q := range u.items {
		if q.owner == owner {
			q.owner, q.expires = "", time.Time{}
		}
	}
}
