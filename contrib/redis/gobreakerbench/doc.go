// Package gobreakerbench measures riprap's fleet breaker (contrib/redis)
// against sony/gobreaker v2.1.0's Redis-backed DistributedCircuitBreaker,
// the last release with it in the root package, in the scenario of the
// fleet issue: four instances, each making a 200 ms call at the same time.
//
// It is a module of its own so that gobreaker and its Redis lock library
// are never a dependency of contrib/redis. It holds only benchmarks:
//
//	cd contrib/redis/gobreakerbench && go test -run '^$' -bench . -benchtime 5x
//
// Each reports, per round of four concurrent calls, the wall time (ns/op
// and ms/round) and the Redis round trips per call (round-trips/call),
// counted by a proxy between the clients and the server, since gobreaker's
// store builds its own client; for riprap a go-redis hook on its clients
// agrees (hook-cmds/call). Every benchmark starts its own redis-server;
// without one it is skipped (or fails under RIPRAP_REQUIRE_SERVERS=1).
package gobreakerbench
