// Command fleet is one gateway process of a fleet: the payment gateway of
// payments/gateway on a ledger shared in PostgreSQL (payments/pgstore),
// with the bank's circuit breaker and rate limit shared through Redis
// (contrib/redis), serving gateway.Handler on a loopback port.
//
// Run three of them against the same PostgreSQL, Redis and services, and
// they act as one gateway: a payment may be sent, or retried, to any of
// them; a bank outage seen by one keeps all of them off the bank; together
// they stay within the bank's rate limit.
//
//	fleet -instance gw-1 -bank http://127.0.0.1:8081 -fx http://127.0.0.1:8082 \
//		-log http://127.0.0.1:8083 -postgres postgres://riprap@127.0.0.1:5432/postgres \
//		-redis 127.0.0.1:6379
//
// It prints "FLEET-READY <url>" once it serves, then one "FLEET-EVENT
// <json>" line per state change of its bank breaker and of its connection
// to Redis. Besides the gateway's paths, GET /v1/fleet answers the
// snapshots of its shared breaker and of the fleet's rate limit.
//
// The tests start Redis, PostgreSQL, the simulated bank, FX and log, and
// three such processes, and measure the fleet: see README.md for the
// figures and the command that produced them.
package main
