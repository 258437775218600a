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

func TestNewKeyedRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  ratelimit.KeyedConfig
		want string
	}{
		{"no rate", ratelimit.KeyedConfig{}, "ratelimit: Rate must be positive or ratelimit.Inf, got 0/0s"},
		{"negative burst", ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), Burst: -2}, "ratelimit: Burst must be at least 1, got -2"},
		{"negative keys", ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), MaxKeys: -1}, "ratelimit: MaxKeys must be positive, got -1"},
		{"unknown policy", ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(1), AtCapacity: 9}, "ratelimit: unknown AtCapacity policy 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ratelimit.NewKeyed(tt.cfg)
			assert.Nil(t, k)
			assert.EqualError(t, err, tt.want)
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

// TestKeyedModel compares random TakeAt calls over a few keys with one
// token-bucket model per key (eviction of idle keys is invisible by
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
