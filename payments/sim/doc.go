// Package sim simulates the payment gateway's three dependencies — a
// [Bank] with balances and an idempotency table, an [FX] service with
// configurable rates, and a transaction [Log] — in memory, and serves them
// over the payments/httpapi HTTP API behind an [Injector] that injects
// faults: random errors, latency, scheduled outages and slowdowns, and
// replies lost after the work was committed.
//
// The services implement the payments interfaces directly too, so tests can
// use them in-process. Everything is safe for concurrent use, and every
// fault can be changed while requests are in flight.
//
// # Faults per request, per entry
//
// An [Injector] works on HTTP requests: a log batch is one request, so
// its latency is paid once per batch and its errors fail the batch whole.
// The [Log] injects its own faults per append ([LogFaults]): "the log fails
// 30% of appends" fails single entries of a batch with a retryable error
// ([ErrInjected], which matches httpapi.ErrOverloaded) while the others are
// stored; a batch can also fail whole. The [Bank] reports a payment charged
// under two idempotency keys ([Bank.DoubleCharges]), for the drill's
// invariants.
//
// # Determinism
//
// Time comes from an injectable clock.Clock (or testing/synctest's fake
// time); randomness from a seed, or from an injected rand.Source, so a run
// can be replayed. [Start] serves all three on loopback, or in-process with
// no socket ([ServicesConfig.InProcess], reached through
// [Services.Transport] built on httpapi.HandlerTransport). To serve one
// handler alone, use net/http/httptest or httpapi.HandlerTransport:
//
//	bank := sim.NewBank(sim.BankConfig{})
//	inj, _ := sim.NewInjector(sim.InjectorConfig{Seed: 1})
//	h := sim.BankHandler(bank, inj)
//	srv := httptest.NewServer(h) // 127.0.0.1:0
//	defer srv.Close()
//
// # Why the Injector is not built on package chaos
//
// Package chaos injects faults into a caller's own pipeline, to rehearse
// an outage with production policies (see payments/gateway's
// BankPolicy.Inject and its rehearsal example). The [Injector] plays a
// dependency that misbehaves, and needs what chaos's injectors do not
// offer:
//
//   - it acts at the server, as HTTP middleware, so the real client, its
//     status-code classification and its Retry-After parsing run; chaos
//     guards a Func[T] in the caller;
//   - a lost reply runs the service (the transfer commits) and then drops
//     the answer; chaos's kinds act before the call or instead of it,
//     never after it;
//   - an outage answers with a Retry-After of the time left in its window,
//     a different hint per request; a chaos fault's error is made once and
//     shared;
//   - latency is Fixed plus uniform Jitter plus the active slowdowns;
//     chaos.Latency waits one fixed duration;
//   - every decision of a request (error, jitter, lost reply) comes from
//     one generator, in one order, under one lock, and the generator can
//     be an injected rand.Source: payments/dst derives each injector's
//     source from its world's seed and replays runs bit for bit. Chaos
//     draws from one PCG per injector, seeded by a uint64 (zero meaning
//     random), so three injectors composed would draw differently;
//   - chances are integer basis points, like every figure of the payments
//     tree, and the counts (outages, errors, delays, cancellations, lost
//     replies) are one snapshot.
package sim
