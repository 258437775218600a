package riprapredis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/benbjohnson/clock"
	"github.com/redis/go-redis/v9"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// A fleet breaker's calls go through its local breaker only. This one is
// never started (Start needs a server), which makes no difference to its
// calls: they never touch Redis.
func ExampleNewBreaker() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	bank, err := riprapredis.NewBreaker(riprapredis.BreakerConfig{
		Client:   client,
		Instance: "gateway-1",
		Breaker:  breaker.Config{Name: "bank", ConsecutiveFailures: 2, Clock: clock.NewMock()},
		Quorum:   2, // the fleet opens when two instances agree
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bank.Close()

	down := errors.New("bank down")
	for range 3 {
		err := resilience.Run(context.Background(), func(context.Context) error { return down }, bank)
		fmt.Println(err)
	}
	fmt.Println(bank.Local().State())
	// Output:
	// bank down
	// bank down
	// breaker: circuit open (name "bank", retry after 5s)
	// open
}

// A leased limiter must be able to take a whole lease from a full bucket:
// the constructor refuses a Lease above the Burst, naming the field.
func ExampleNewLimiter() {
	_, err := riprapredis.NewLimiter(riprapredis.LimiterConfig{
		Client: redis.NewClient(&redis.Options{}),
		Name:   "bank",
		Rate:   ratelimit.PerSecond(100),
		Burst:  10,
		Lease:  20,
	})
	var ce *resilience.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field, ce.Rule)
	}
	fmt.Println(err)
	// Output:
	// Lease must be at most Burst (10)
	// riprapredis "bank": Lease must be at most Burst (10), got 20
}

// An unlimited rate admits every call without a round trip, so this
// limiter works without a server; its snapshot shows the counters.
func ExampleLimiter_Snapshot() {
	l, err := riprapredis.NewLimiter(riprapredis.LimiterConfig{
		Client: redis.NewClient(&redis.Options{}),
		Name:   "ledger",
		Rate:   ratelimit.Inf,
		Time:   riprapredis.CallerTime,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		_ = l.Admit(context.Background())
	}
	out, _ := json.Marshal(l.Snapshot())
	fmt.Println(string(out))
	// Output:
	// {"name":"ledger","rate":"Inf","burst":1,"lease":1,"time":"caller","redis":"closed","admitted":3,"rejected":0,"round_trips":0,"fallbacks":0,"errors":0,"leased":0,"expired":0,"lease_tokens":0,"lease_remaining":"0s","lease_remaining_seconds":0}
}

// The time source is read from the configuration as text in logs and
// snapshots.
func ExampleTimeSource() {
	fmt.Println(riprapredis.ServerTime, riprapredis.CallerTime)
	// Output: server caller
}
