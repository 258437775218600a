package ratelimit_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestNewKeyedRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   ratelimit.KeyedConfig
		field string
		rule  string
		value any
	}{
		{"no rate", ratelimit.KeyedConfig{}, "Rate", "must be positive or ratelimit.Inf", ratelimit.Rate{}},
		{"negative burst", ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), Burst: -2}, "Burst", "must not be negative", -2},
		{"negative keys", ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), MaxKeys: -1}, "MaxKeys", "must not be negative", -1},
		{"unknown policy", ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), AtCapacity: 9}, "AtCapacity",
			"must be RejectNewKeys or ShareOverflow", ratelimit.AtCapacity(9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name = "merchants"
			k, err := ratelimit.NewKeyed(tt.cfg)
			assert.Nil(t, k)
			var ce *resilience.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, resilience.ConfigError{Component: "ratelimit", Name: "merchants", Field: tt.field, Rule: tt.rule, Value: tt.value}, *ce)
		})
	}
}

func TestKeyedDecisions(t *testing.T) {
	mock := clock.NewMock()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 3, Clock: mock})
	require.NoError(t, err)
	d, err := k.Take("alice", 2)
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Decision{Allowed: true, Limit: 3, Remaining: 1, Reset: 2 * time.Second}, d)
	d, err = k.Take("alice", 2)
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Decision{Limit: 3, Remaining: 1, RetryAfter: time.Second, Reset: 2 * time.Second}, d)
	assert.True(t, k.AllowN("bob", 3), "keys are independent")
	assert.False(t, k.Allow("bob"))
	_, err = k.Take("bob", 4)
	assert.ErrorIs(t, err, ratelimit.ErrExceedsBurst)
	assert.False(t, k.AllowN("bob", 4))
	assert.True(t, k.AllowN("bob", 0))
	assert.Equal(t, ratelimit.KeyedSnapshot{Rate: ratelimit.Every(time.Second), Burst: 3, MaxKeys: 1 << 16, Keys: 2, Limited: 2},
		k.Snapshot(), "the two refusals for want of tokens count; the request over the burst is an error")
}

// TestKeyedTakeZeroPeeks (issue 12 item 9): Take(key, 0) reports the key's
// real tokens and reset time, consuming nothing, not the burst.
func TestKeyedTakeZeroPeeks(t *testing.T) {
	mock := clock.NewMock()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 3, Clock: mock})
	require.NoError(t, err)
	require.True(t, k.AllowN("alice", 2))
	mock.Add(500 * time.Millisecond)
	for i := range 2 { // twice: the peek took nothing
		d, err := k.Take("alice", 0)
		require.NoError(t, err)
		assert.Equal(t, ratelimit.Decision{Allowed: true, Limit: 3, Remaining: 1, Reset: 1500 * time.Millisecond}, d, "peek %d", i)
	}
	d, err := k.Take("bob", -1)
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Decision{Allowed: true, Limit: 3, Remaining: 3}, d, "an unknown key is full")
	assert.Equal(t, 1, k.Snapshot().Keys, "a peek tracks no new key")
	require.True(t, k.Allow("alice"))
	assert.False(t, k.Allow("alice"), "the peeks consumed nothing: one token was left")
}

// TestKeyedPeekAtCapacity: an untracked key reports the bucket a request
// of it would get.
func TestKeyedPeekAtCapacity(t *testing.T) {
	mock := clock.NewMock()
	reject, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 2, MaxKeys: 1, Clock: mock})
	require.NoError(t, err)
	share, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 2, MaxKeys: 1,
		AtCapacity: ratelimit.ShareOverflow, Clock: mock})
	require.NoError(t, err)
	for _, k := range []*ratelimit.Keyed{reject, share} {
		require.True(t, k.Allow("a"))
	}
	require.True(t, share.Allow("b")) // the overflow bucket: one of two tokens left

	d, err := reject.Take("c", 0)
	assert.ErrorIs(t, err, ratelimit.ErrTooManyKeys)
	assert.Equal(t, ratelimit.Decision{Limit: 2}, d)
	assert.Zero(t, reject.Snapshot().Refused, "a peek is not a refusal")
	d, err = share.Take("c", 0)
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: time.Second}, d, "the shared overflow bucket")

	mock.Add(time.Second) // "a" is idle: a new key would take its place
	d, err = reject.Take("c", 0)
	require.NoError(t, err)
	assert.Equal(t, 2, d.Remaining)
	assert.Equal(t, 1, reject.Snapshot().Keys, "and the peek evicted nothing")
}

// TestKeyedTimeGoingBackNeverReportsNegativeRemaining: a call whose time
// went back (TakeAt with an earlier time, a mock clock stepping back)
// reported a negative RateLimit-Remaining. Each shard now acts at a
// non-decreasing time, which also keeps a key evicted as idle at a later
// time from being judged again at an earlier one.
func TestKeyedTimeGoingBackNeverReportsNegativeRemaining(t *testing.T) {
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), Burst: 1, MaxKeys: 16})
	require.NoError(t, err)
	t0 := time.Now() // TakeAt clamps times to decades around the limiter's creation
	d, _ := k.TakeAt(t0.Add(10*time.Second), "a", 1)
	require.True(t, d.Allowed)
	d, _ = k.TakeAt(t0, "a", 1)
	assert.False(t, d.Allowed, "the token was taken at the later time")
	assert.Equal(t, 0, d.Remaining)
	assert.Equal(t, time.Second, d.RetryAfter, "counted from the shard's latest time, not from the past")
	d, _ = k.TakeAt(t0, "a", 0)
	assert.Equal(t, 0, d.Remaining, "a peek in the past sees the same")
}

func TestKeyedEvictsIdleKeysLazily(t *testing.T) {
	mock := clock.NewMock()
	// MaxKeys under 512 makes one shard; eviction works shard by shard.
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 2, MaxKeys: 100, Clock: mock})
	require.NoError(t, err)
	for i := range 5 {
		require.True(t, k.Allow(fmt.Sprint("ip", i)))
	}
	assert.Equal(t, 5, k.Snapshot().Keys)
	mock.Add(time.Second) // every bucket is full again: all idle
	for range 5 {
		require.True(t, k.Allow("active"))
		mock.Add(time.Second)
	}
	s := k.Snapshot()
	assert.Equal(t, 1, s.Keys, "idle keys must go as other keys are used")
	assert.Equal(t, uint64(5), s.Evicted)
	assert.True(t, k.AllowN("ip0", 2), "a forgotten idle key starts full, as it was")
}

func TestKeyedSweepEvictsEveryIdleKey(t *testing.T) {
	mock := clock.NewMock()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 1, Clock: mock})
	require.NoError(t, err)
	for i := range 200 {
		require.True(t, k.Allow(fmt.Sprint("ip", i)))
	}
	mock.Add(500 * time.Millisecond)
	assert.Zero(t, k.Sweep(), "no key is idle yet")
	assert.False(t, k.Allow("ip0"))
	mock.Add(500 * time.Millisecond)
	require.True(t, k.Allow("late"))
	assert.Positive(t, k.Sweep())
	s := k.Snapshot()
	assert.Equal(t, uint64(200), s.Evicted, "every idle key is gone, lazily or by Sweep")
	assert.Equal(t, 1, s.Keys, "the busy key stays")
}

func TestKeyedAtCapacityRejectsNewKeys(t *testing.T) {
	mock := clock.NewMock()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 2, MaxKeys: 2, Name: "merchants", Clock: mock})
	require.NoError(t, err)
	require.True(t, k.Allow("a"))
	require.True(t, k.Allow("b"))
	_, err = k.Take("c", 1)
	assert.True(t, resilience.IsRejected(err))
	assert.ErrorIs(t, err, ratelimit.ErrTooManyKeys)
	assert.EqualError(t, err, `ratelimit: 2 keys tracked, none idle: ratelimit: too many keys (name "merchants")`)
	assert.False(t, k.Allow("c"))
	assert.True(t, k.Allow("a"), "known keys are unaffected")
	mock.Add(2 * time.Second)
	assert.True(t, k.Allow("c"), "an idle key makes room")
	s := k.Snapshot()
	assert.Equal(t, 2, s.Keys)
	assert.Equal(t, uint64(2), s.Refused)
}

func TestKeyedAtCapacitySharesOverflow(t *testing.T) {
	mock := clock.NewMock()
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: 2, MaxKeys: 1,
		AtCapacity: ratelimit.ShareOverflow, Clock: mock})
	require.NoError(t, err)
	require.True(t, k.Allow("a"))
	assert.True(t, k.Allow("b"))
	assert.True(t, k.Allow("c"))
	assert.False(t, k.Allow("d"), "newcomers share one bucket: never a free pass")
	assert.True(t, k.Allow("a"))
	s := k.Snapshot()
	assert.Equal(t, 1, s.Keys)
	assert.Equal(t, uint64(3), s.Overflowed)
}

func TestKeyedInfNeedsNoMemory(t *testing.T) {
	k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Inf, MaxKeys: 1})
	require.NoError(t, err)
	for i := range 100 {
		require.True(t, k.Allow(fmt.Sprint(i)))
	}
	assert.Zero(t, k.Snapshot().Keys)
}

// TestKeyedModel compares random TakeAt calls (and peeks, n = 0) over a
// few keys with one token-bucket model per key (eviction of idle keys is invisible by
// design), and checks the capacity rule: a new key is refused, or sent to
// the overflow bucket, exactly when MaxKeys other keys are not idle.
func TestKeyedModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		interval := time.Duration(rapid.IntRange(1, 100).Draw(t, "intervalMs")) * time.Millisecond
		burst := rapid.IntRange(1, 4).Draw(t, "burst")
		maxKeys := rapid.IntRange(1, 8).Draw(t, "maxKeys")
		atCap := ratelimit.AtCapacity(rapid.IntRange(0, 1).Draw(t, "atCapacity"))
		t0 := time.Now()
		k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(interval), Burst: burst, MaxKeys: maxKeys, AtCapacity: atCap})
		if err != nil {
			t.Fatal(err)
		}
		newModel := func() *model {
			return &model{interval: int64(interval), burst: int64(burst), credit: int64(burst) * int64(interval)}
		}
		models := map[string]*model{}
		overflow := newModel()
		var now int64
		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) {
				busy := 0
				for _, m := range models {
					if m.tokens(now) < m.burst {
						busy++
					}
				}
				if keys := k.Snapshot().Keys; keys > maxKeys || keys < busy {
					t.Fatalf("%d keys tracked, %d busy, MaxKeys %d", keys, busy, maxKeys)
				}
			},
			"advance": func(t *rapid.T) {
				now += rapid.Int64Range(0, 2*int64(interval)).Draw(t, "d")
			},
			"peek": func(t *rapid.T) {
				key := fmt.Sprint("k", rapid.IntRange(0, 11).Draw(t, "key"))
				m := models[key]
				if m == nil {
					m = newModel()
				}
				busyOthers := 0
				for kk, mm := range models {
					if kk != key && mm.tokens(now) < mm.burst {
						busyOthers++
					}
				}
				crowded := m.tokens(now) == m.burst && busyOthers >= maxKeys
				d, err := k.TakeAt(t0.Add(time.Duration(now)), key, 0)
				switch {
				case crowded && atCap == ratelimit.RejectNewKeys:
					if !errors.Is(err, ratelimit.ErrTooManyKeys) {
						t.Fatalf("peek of %s with %d busy keys, MaxKeys %d: err %v", key, busyOthers, maxKeys, err)
					}
					return
				case crowded:
					m = overflow
				}
				if err != nil || !d.Allowed {
					t.Fatalf("peek of %s: %+v, %v", key, d, err)
				}
				if int64(d.Remaining) != m.tokens(now) {
					t.Fatalf("peek of %s: Remaining got %d, want %d", key, d.Remaining, m.tokens(now))
				}
			},
			"take": func(t *rapid.T) {
				key := fmt.Sprint("k", rapid.IntRange(0, 11).Draw(t, "key"))
				n := rapid.IntRange(1, burst).Draw(t, "n")
				m := models[key]
				if m == nil {
					m = newModel()
					models[key] = m
				}
				busyOthers := 0
				for kk, mm := range models {
					if kk != key && mm.tokens(now) < mm.burst {
						busyOthers++
					}
				}
				full := m.tokens(now) == m.burst
				d, err := k.TakeAt(t0.Add(time.Duration(now)), key, n)
				if crowded := full && busyOthers >= maxKeys; crowded && atCap == ratelimit.RejectNewKeys {
					if err == nil {
						t.Fatalf("key %s admitted with %d busy keys and MaxKeys %d", key, busyOthers, maxKeys)
					}
					return
				} else if crowded {
					m = overflow
				}
				if err != nil {
					t.Fatalf("TakeAt(%s, %d): %v (busy others %d, full %v)", key, n, err, busyOthers, full)
				}
				wantDelay, want := m.take(now, int64(n), 0)
				if d.Allowed != want {
					t.Fatalf("at %v: TakeAt(%s, %d) allowed %v, want %v", time.Duration(now), key, n, d.Allowed, want)
				}
				if !want && d.RetryAfter != time.Duration(wantDelay) {
					t.Fatalf("RetryAfter got %v, want %v", d.RetryAfter, time.Duration(wantDelay))
				}
				if int64(d.Remaining) != m.tokens(now) {
					t.Fatalf("Remaining got %d, want %d", d.Remaining, m.tokens(now))
				}
			},
		})
	})
}

// TestKeyedConcurrentBurst: goroutines drawn by rapid hit a few keys at one
// instant of the mock clock. No key gets more than its burst, the key cap
// holds, and a refusal for capacity only happens with MaxKeys keys busy.
func TestKeyedConcurrentBurst(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		burst := rapid.IntRange(1, 4).Draw(t, "burst")
		maxKeys := rapid.IntRange(1, 4).Draw(t, "maxKeys")
		plans := rapid.SliceOfN(rapid.SliceOfN(rapid.IntRange(0, 5), 1, 8), 2, 8).Draw(t, "keysPerGoroutine")
		k, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Second), Burst: burst,
			MaxKeys: maxKeys, Clock: clock.NewMock()})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		admitted := map[int]int{}
		capRefusals := 0
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for _, plan := range plans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				for _, key := range plan {
					d, err := k.Take(fmt.Sprint(key), 1)
					mu.Lock()
					if d.Allowed {
						admitted[key]++
					}
					if errors.Is(err, ratelimit.ErrTooManyKeys) {
						capRefusals++
					}
					mu.Unlock()
				}
			}()
		}
		close(gate)
		wg.Wait()
		for key, n := range admitted {
			if n > burst {
				t.Fatalf("key %d admitted %d times at one instant, burst %d", key, n, burst)
			}
		}
		if capRefusals > 0 && len(admitted) < maxKeys {
			t.Fatalf("%d capacity refusals with only %d keys ever admitted, MaxKeys %d", capRefusals, len(admitted), maxKeys)
		}
		if s := k.Snapshot(); s.Keys > maxKeys || s.Keys != len(admitted) {
			t.Fatalf("%d keys tracked, %d keys admitted, MaxKeys %d", s.Keys, len(admitted), maxKeys)
		}
	})
}
