// Package dashboard serves a live view of resilience components in a
// browser: every breaker's and health target's state over the last minutes
// as a timeline, and the tokens of rate limiters, the use of bulkheads and
// the retries a budget has left, updated as they change.
//
// A [Dashboard] is a [net/http.Handler]: one embedded page that loads
// nothing from elsewhere (it works offline), a Server-Sent Events stream
// of state changes and periodic snapshots, and the same data as JSON at
// /snapshot. It reads the components' Snapshot methods and uses the
// standard library only:
//
//	reg := &breaker.Registry{}
//	d, err := dashboard.New(dashboard.Config{Registry: reg, Limiters: []*ratelimit.Limiter{lim}})
//	if err != nil { … }
//	bank, err := reg.GetOrCreate("bank", breaker.Config{Listeners: resilience.Listeners{d.Listener()}})
//	d.Start()
//	defer d.Close()
//	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", d))
//
// # Seeing every transition
//
// Components take their listeners when they are built, so a dashboard
// given components built before it finds state changes by comparing
// snapshots each Config.Interval: it learns the state and the time it was
// entered, but a state that came and went between two samples (a
// half-open lasting a few milliseconds) is not seen. Built first, the
// dashboard hands its [Dashboard.Listener] to the components'
// Config.Listeners and records every transition when it happens, with its
// reason, and streams it at once. Components built that way are shown through a
// breaker Registry the dashboard reads, or with [Dashboard.Add].
//
// Components built where only their snapshots are exposed — a payments
// gateway's rate limiters and health checks, shown in its status — are
// shown through Config.Parts, a func the sampler calls for their
// snapshots (see [Parts]).
//
// # Bounds
//
// Each timeline keeps the last Config.History and at most [MaxTransitions]
// entries, under 80 KiB, one per breaker and health target shown.
// Each stream client has [ClientBuffer] messages of room; a client
// that falls further behind is dropped, never waited for, and at most
// Config.MaxClients streams are served at once. A stream may ask to end
// after a while (/events?max=30s, capped at [MaxStreamLifetime]), which a
// headless browser needs to finish loading the page.
package dashboard
