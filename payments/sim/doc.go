// Package sim simulates the payment gateway's three dependencies — a
// [Bank] with balances and an idempotency table, an [FX] service with
// configurable rates, and a transaction [Log] — in memory, and serves them
// over the payments/httpapi HTTP API behind an [Injector] that injects
// faults: random errors, latency, scheduled outages and slowdowns, and
// replies lost after the work was committed.
//
// The services implement the payments interfaces directly too, so tests can
// use them in-process. Everything is safe for concurrent use, and every
// fault can be changed while requests are in flight. Time comes from an
// injectable clock.Clock; randomness from a seed, so a run can be replayed.
//
// [Start] serves all three on loopback, each behind its own injector. To
// serve one handler alone, use net/http/httptest:
//
//	bank := sim.NewBank(sim.BankConfig{})
//	inj := sim.NewInjector(sim.InjectorConfig{Seed: 1})
//	h, _ := sim.BankHandler(bank, inj)
//	srv := httptest.NewServer(h) // 127.0.0.1:0
//	defer srv.Close()
package sim
