// Package riprapredis shares riprap's breaker openings and rate limits
// across a fleet of instances through Redis (7 or a protocol-compatible
// server), with github.com/redis/go-redis/v9.
//
// It is its own Go module, so programs that do not import it download no
// Redis client.
//
// # Shared breaker state without a lock on the call path
//
// A [Breaker] wraps a local [breaker.Breaker]; calls go through the local
// one only, and make no Redis round trip in any state. What is shared is
// the opening, not the counting:
//
//   - when the local breaker opens by its own rules, a background goroutine
//     runs one script: a compare-and-set on the fleet's epoch, then
//     PUBLISH. An instance that finds a newer opening it had not seen
//     adopts it instead of publishing over it;
//   - every peer holds its own breaker open ([breaker.HeldOpen], told apart
//     from a person's ForcedOpen) until the published deadline, then
//     releases it to half-open, so that its own probes confirm the
//     recovery; [BreakerConfig].ReleaseDelay lets the instance that opened
//     probe first;
//   - with a [BreakerConfig].Quorum, the fleet opens only when that many
//     distinct instances opened within a window: one bad node (a broken
//     route, a full disk) does not shut everybody out of a dependency that
//     works for them;
//   - messages missed while disconnected are repaired by re-reading the
//     fleet key after every re-subscription and every RepairInterval, off
//     the call path; keys expire a minute after the deadline they carry.
//
// sony/gobreaker's distributed breaker takes a Redis lock around every call
// instead (four round trips or more per call, calls serialised fleet-wide);
// the gobreakerbench directory measures both.
//
// # Fleet-wide rate limits
//
// A [Limiter] keeps one GCRA bucket per limit in Redis and decides in one
// script per call, with the time read from the server (TIME in the script)
// or, for managed services that refuse TIME in scripts, passed by the
// caller ([TimeSource]). With [LimiterConfig].Lease it takes several tokens
// per round trip and spends them locally, for hot paths.
//
// # When Redis is down
//
// Calls go on. A breaker's calls never depended on Redis; an opening that
// could not be published is retried, only the latest one, and the fleet
// state is rebuilt when Redis returns (the key is read again and a local
// opening still in force is published). A fail-closed breaker holds itself
// open meanwhile. A limiter decides with its Local limiter, admits (fail
// open) or refuses (FailClosed), and tries Redis again once per DownWait.
// Nothing queues, nothing panics.
//
// # Use
//
//	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
//	bank, err := riprapredis.NewBreaker(riprapredis.BreakerConfig{
//		Client:  client,
//		Breaker: breaker.Config{Name: "bank", FailureRate: 0.5},
//	})
//	if err != nil { … }
//	if err := bank.Start(ctx); err != nil { … } // Redis unreachable: calls stay local meanwhile
//	defer bank.Close()
//
//	limit, err := riprapredis.NewLimiter(riprapredis.LimiterConfig{
//		Client: client, Name: "bank", Rate: ratelimit.PerSecond(200), Burst: 20,
//	})
//	transfers := resilience.NewPipeline[Receipt](limit, bank, deadline)
//
// The Examples run without a server, so they show configuration and what
// happens locally; the tests (which start their own redis-server) show the
// fleet at work.
package riprapredis
