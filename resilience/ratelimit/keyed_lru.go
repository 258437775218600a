package ratelimit

import (
	"fmt"

	"github.com/riprap-go/riprap/resilience"
)

// lookup finds or creates key's entry in sh (held) and moves it to the
// front. It returns (nil, nil) when key must use the shared overflow
// bucket, and (nil, err) when it is refused.
func (k *Keyed) lookup(sh *keyShard, key string, now int64) (*keyEntry, error) {
	if e := sh.keys[key]; e != nil {
		sh.moveToFront(e)
		k.evictIdle(sh, now, 1, e)
		return e, nil
	}
	k.evictIdle(sh, now, 1, nil)
	if !k.claimSlot() && !(k.evictIdle(sh, now, 8, nil) && k.claimSlot()) {
		if k.atCap == ShareOverflow {
			return nil, nil
		}
		k.refused.Add(1)
		return nil, k.tooManyKeys()
	}
	// A private copy: a key sliced from a large request buffer must not
	// keep the whole buffer alive.
	e := &keyEntry{key: string([]byte(key)), tat: -maxSpan}
	sh.keys[e.key] = e
	sh.pushFront(e)
	return e, nil
}

// tooManyKeys is the refusal of a new key at capacity.
func (k *Keyed) tooManyKeys() error {
	return fmt.Errorf("ratelimit: %d keys tracked, none idle: %w", k.maxKeys,
		resilience.Reject(policyName, k.name, ErrTooManyKeys, 0))
}

// roomFor reports, changing nothing, whether a new key of sh (held) would
// find room now: a free slot, or an idle key among the oldest that lookup
// would evict.
func (k *Keyed) roomFor(sh *keyShard, now int64) bool {
	if k.count.Load() < int64(k.maxKeys) {
		return true
	}
	scan := 8
	for e := sh.oldest; e != nil && scan > 0; e, scan = e.newer, scan-1 {
		if e.tat <= now {
			return true
		}
	}
	return false
}

// claimSlot counts one more key unless MaxKeys are tracked.
func (k *Keyed) claimSlot() bool {
	for {
		c := k.count.Load()
		if c >= int64(k.maxKeys) {
			return false
		}
		if k.count.CompareAndSwap(c, c+1) {
			return true
		}
	}
}

// evictIdle looks at up to scan of the least recently used keys and drops
// the first idle one other than keep (the key being served), reporting
// whether it dropped one.
func (k *Keyed) evictIdle(sh *keyShard, now int64, scan int, keep *keyEntry) bool {
	for e := sh.oldest; e != nil && scan > 0; e, scan = e.newer, scan-1 {
		if e.tat <= now && e != keep {
			sh.unlink(e)
			delete(sh.keys, e.key)
			k.count.Add(-1)
			k.evicted.Add(1)
			return true
		}
	}
	return false
}

// Sweep evicts every idle key now and returns how many it evicted. Calls
// evict lazily within the shard they touch, so a shard nobody uses keeps
// its idle keys (within MaxKeys); a program that wants that memory back
// can call Sweep from time to time. It locks one shard at a time.
func (k *Keyed) Sweep() int {
	now := k.tb.now()
	total := 0
	for i := range k.shards {
		sh := &k.shards[i]
		sh.mu.Lock()
		now := max(now, sh.last)
		sh.last = now
		for e := sh.oldest; e != nil; {
			next := e.newer
			if e.tat <= now {
				sh.unlink(e)
				delete(sh.keys, e.key)
				total++
			}
			e = next
		}
		sh.mu.Unlock()
	}
	k.count.Add(-int64(total))
	k.evicted.Add(uint64(total))
	return total
}

func (sh *keyShard) pushFront(e *keyEntry) {
	e.older, e.newer = sh.newest, nil
	if sh.newest != nil {
		sh.newest.newer = e
	} else {
		sh.oldest = e
	}
	sh.newest = e
}

func (sh *keyShard) unlink(e *keyEntry) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		sh.newest = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		sh.oldest = e.newer
	}
	e.newer, e.older = nil, nil
}

func (sh *keyShard) moveToFront(e *keyEntry) {
	if sh.newest != e {
		sh.unlink(e)
		sh.pushFront(e)
	}
}
