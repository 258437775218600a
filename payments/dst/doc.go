// Package dst tests the payment gateway by deterministic simulation: the
// gateway, its three simulated dependencies and its clients run in one
// process on virtual time, a seed draws a world of faults, and every run
// of a world replays exactly.
//
// A [World] is plain data: the load (steady, bursts, a ramp), how the
// clients retry and give up, each dependency's faults (errors, lost
// replies, latency and jitter, outages, hangs, slowdowns within and past
// the call timeout, error windows, flapping), the gateway's crashes and
// its configuration. A quarter of the worlds have two banks: the gateway
// gets two acquirers (gateway.Config.Acquirers), "bank" then "bank2",
// sometimes weighted, each bank with faults of its own, so that payments
// fail over. [Generator] draws worlds with rapid, every setting either its
// default or a value gateway.New accepts — a world it refuses fails the
// run as a generator bug, never skipped; [Run] plays one; [Check] judges
// the [Outcome] against the invariants.
//
// # One process, virtual time
//
// [Run] plays a world inside a testing/synctest bubble. The production
// code is what runs: gateway.New with its pipelines, gateway.Handler and
// gateway.Client, the httpapi clients and handlers, the payments/sim
// bank (or two), FX and log behind their sim.Injector, and a
// store.Memory as the durable store. Only the sockets are gone: every HTTP request is served
// in-process by httpapi.HandlerTransport. A minute of traffic takes a
// fraction of a second.
//
// A crash kills the gateway at a random point: its requests in flight are
// cut, every later call it makes to the store or the network fails, and
// its loops stop — whatever it held in memory is lost. The store is kept,
// and after the world's downtime a new gateway starts on it with the same
// Instance, as a restarted process would. At the end every dependency
// heals, the clients finish, the gateway drains (Gateway.Drain) and the
// clients look every payment up.
//
// # Determinism
//
// Virtual time is not enough: goroutines that wake at one instant run in
// an order the Go scheduler picks, and the race detector shuffles it. So
// every step that touches shared state — a store call, a request leaving
// for a service, reaching it after a delay, coming back, a claim's
// deadline, a step of the driver — takes a ticket named after what it
// does, and one goroutine lets the tickets go one at a time, by name, each
// time every other goroutine of the bubble is blocked. The run then
// depends on the world alone: [Outcome.Digest] hashes every answer and
// every record, and TestSameWorldSameRun runs worlds twice and requires
// the same digest and no step left to the scheduler ([Outcome.Ties]).
//
// The gateway draws its own policies' jitter (the default backoff between
// transfer attempts, the reconciler's wait before a pending payment's
// next check) from gateway.Config.Rand, which dst seeds from the world's
// seed and the incarnation's number. Two more things escape a seed, and
// dst stands in for them from outside:
//
//   - the goroutines the reconciler starts at one instant (a claim each
//     time workers free up) reach the bank's status breaker in the
//     scheduler's order: the store staggers the claims it hands out at one
//     instant by 1ns, and the gateway's clock (Config.Clock, the
//     bubble's time) takes a ticket named after the claim's deadline in
//     WithDeadline, the first thing each goroutine does. (If the gateway
//     passed a payment's ID in the context of its work, the clock could
//     name the ticket after it.) So the gateway runs on an injected clock:
//     the policies' real-clock fast paths are left to their own tests;
//   - claim tokens (crypto/rand) are random, and compared only for
//     equality: the outcome leaves them out.
//
// # Invariants
//
// [Check] judges each world by the bank's, the log's and the store's own
// records. Each invariant has a test that breaks the gateway from outside
// and shows the check failing:
//
//   - [NoDoubleDebit]: no key debited twice, no payment under two keys
//     (TestNoDoubleDebitCatchesARetryUnderANewKey); in a two-bank world,
//     no key and no payment debited at both banks, by both banks' own
//     records (TestNoDoubleDebitCatchesAFailoverAfterAnUnknownOutcome: a
//     gateway failing over after a lost reply);
//   - [NoLostPayment]: every debit recorded succeeded with its transfer,
//     amount and bank, every success debited, no answer gone back on, Lookup
//     agreeing with the store, balances summing the same
//     (TestNoLostPaymentCatchesADebitAnsweredRejected);
//   - [LoggedOnce]: the log holds exactly the succeeded payments after the
//     drain, nothing refused or left queued
//     (TestLoggedOnceCatchesAnEntryNeverQueued);
//   - [NothingPending]: with the bank reachable, the drain resolves every
//     payment (TestNothingPendingCatchesAReconcilerThatNeverLearns);
//   - [NeverHeldOpen]: a dependency without background failures whose
//     latency stays within its call timeout (for FX, also within the
//     client's) is refused, and its breakers open, only during and shortly
//     after its failing windows
//     (TestNeverHeldOpenCatchesAProbeStricterThanItsCalls);
//   - [MemoryBounded]: the outbox within MaxOutbox, log batches within
//     MaxInFlight and BatchSize, status lookups within the reconciler's
//     workers, goroutines within 150 plus 12 per client request in flight
//     (TestMemoryBoundedCatchesAnOutboxPastItsBound);
//   - [DefiniteAnswers]: every answer one of the four states, with its
//     reason, its HTTP status and Retry-After
//     (TestDefiniteAnswersCatchesAnAnswerWithoutReason).
//
// # Running
//
// TestWorlds runs a fixed budget of worlds, the same number with and
// without the race detector, smaller worlds under -race (which runs them
// about fifteen times slower): see budget_norace_test.go and
// budget_race_test.go. A failing world is shrunk by rapid and printed as
// JSON, written to a file with the one-line command that replays it, and
// projected onto a scenario file of the drill ([World.Scenario]); the
// run's rapid seed is printed with the command that replays the whole run:
//
//	go test ./payments/dst/                                          # the CI budget
//	go test ./payments/dst/ -run '^TestWorlds$' -worlds 20000 -timeout 0  # soak
//	go test ./payments/dst/ -run '^TestWorlds$' -worlds 500 -rapid.seed=N # the run again
//	go test ./payments/dst/ -run '^TestReplay$' -world FILE         # one world, from its file
//
// -rapid.checks works too (-worlds wins when both are given); a soak
// needs -timeout to cover it, at a few worlds a second. On this
// repository's 2-core machine, shared (load average 15 to 20 while
// measured): 500 worlds of up to 3 minutes and 600 payments, a quarter
// of them with two banks, took 248s and 123s of CPU (2.0 worlds/s of real
// time; 132,000 payments and 7h25m of simulated traffic); under -race the
// whole package, with 500 worlds of up to 90s and 100 payments, took 331s
// and 130s of CPU. Unloaded, an earlier build of this package ran the
// same budgets in 106s and 146s. The digest of a world is the same across
// processes and with or without -race.
//
// # Findings
//
// Worlds that broke an invariant are kept, shrunk, in testdata/findings;
// TestFindings replays them as regression tests, each green since its
// fix. What they found, and the fix:
//
//   - claim-ttl-shorter-than-bank-calls: gateway.New accepted a ClaimTTL
//     shorter than the work done under one claim (an FX quote and every
//     transfer attempt in Pay; a status lookup and a transfer in the
//     reconciler). The claim's deadline then cut bank calls the bank
//     answered within BankPolicy.Timeout, and they counted as bank
//     failures: "bank" and "bank-status" opened on a bank that works.
//     Fix: New refuses a ClaimTTL below that work (see
//     gateway.Config.ClaimTTL); TestFindings requires the refusal, then
//     replays the world with ClaimTTL at that floor, which the generator
//     now never goes below;
//   - half-open-idle-reopens, half-open-probes-all-cancelled: a breaker
//     half-open for MaxHalfOpen re-opened as if its dependency had failed
//     even when no probe was outstanding — none was sent (nothing to log,
//     no payment to reconcile), or every probe was ignored (the callers
//     gave up first). A healthy dependency was then refused, and each idle
//     minute grew the open wait. Fix: resilience/breaker re-opens only
//     when a probe is still outstanding MaxHalfOpen after the latest
//     probe's admission (see breaker.Config);
//   - reconciler-batch-outlives-its-claim (a bank answering in 1s, within
//     its 2s timeout; clients giving up after 100ms, so payments go
//     pending; ClaimTTL 5.5s, the least New accepts): the reconciler
//     claimed up to 64 pending payments under one lease of ClaimTTL but
//     checked 8 at a time, so the payments at the end of a batch started
//     their status lookup and transfer with little of the claim left. Its
//     deadline cut transfers the bank would answer in time, they counted
//     as failures, and "bank" opened on a working bank. TestWorlds met it
//     when it drew a ClaimTTL near its floor with a backlog of pending
//     payments (once in 1,500 worlds). Fix: the reconciler claims a
//     payment only when a worker is free to start on it, so each check
//     has a whole ClaimTTL, which covers it; and the claim's end cancels
//     the work (with a cause) rather than passing a deadline, so that the
//     bank's breakers ignore a call it cuts, as they ignore a caller that
//     went away — the claim is the gateway's own bookkeeping, not a time
//     the bank was given (gateway tests
//     TestReconcilerClaimsEachPaymentAsItsCheckStarts and
//     TestClaimEndingIsNotTheBanksFailure);
//   - fx-slower-than-every-client (FX answering in 502ms within its 1s
//     timeout, clients giving up after 100ms): after an FX outage the
//     breaker went half-open and stayed so for 95s, refusing calls past
//     its two probes, because every probe was cancelled by its client
//     before FX answered, and a cancelled probe neither closes nor
//     re-opens a breaker. The checker was wrong, not the gateway: FX is
//     called only inside a client's request, so for the gateway it answers
//     in time only within the client's timeout, and a breaker limiting
//     calls that every client abandons protects FX and answers from the
//     fallback quote at once. Fix: NeverHeldOpen judges FX against the
//     shorter of its call timeout and the client's (found once in 3,000
//     worlds).
//
// Open findings, not fixed yet, are kept in testdata/open; TestOpenFindings
// requires each still to break its invariant, so that a fix is noticed.
// There are none at the moment.
//
// # Not covered
//
// Real sockets (connection resets, partial writes: the gateway's chaos
// test over loopback keeps them), a failing or damaged store (the store
// packages' own tests), a fleet of gateways on one store, crashes during
// the drain, and the policies' real-clock fast paths (see Determinism).
package dst
