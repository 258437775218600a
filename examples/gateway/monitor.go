package main

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/dashboard"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// The -listen server's own paths, beside the gateway's: the live
// dashboard (pathDashboard, where pathRoot leads) and the Prometheus
// metrics.
const (
	pathDashboard = "/dashboard/"
	pathMetrics   = "/metrics"
)

// dashboardInterval is how often the dashboard samples the gateway. State
// changes of breakers and health checks reach it at once through its
// listener; the samples carry limiter tokens and budgets.
const dashboardInterval = 500 * time.Millisecond

// monitor is what -listen shows of the protected run: the live dashboard
// of the gateway's breakers, bank limiters, health checks and retry
// budgets, the same as Prometheus metrics, and the gateway's own status
// and payments. It lives as long as the command, so the page can be
// opened during the unprotected run (it has no gateway, so the page is
// empty) and fills in when the protected run starts.
//
// The gateway builds its limiters and health checker itself and shows
// only their snapshots (in gateway.Status), so the dashboard reads those
// through its Parts; breakers come from the registry the gateway is
// given, with every transition reported by the dashboard's listener.
// Prometheus reads the same: the breakers and budgets themselves, the
// limiters and health targets through the gateway's status.
//
// Build one with newMonitor and stop it with close. It is safe for
// concurrent use; attach expects one protected run at a time, and the
// registry holds the breakers of one gateway: a command runs one.
type monitor struct {
	registry  *breaker.Registry // given to the gateway as Config.Registry
	dash      *dashboard.Dashboard
	metrics   *prometheus.Registry
	collector *riprapprom.Collector
	status    http.Handler              // the attached gateway's own handler, or 503
	serveGW   func(http.Handler) func() // installs a gateway's handler in status

	gw atomic.Pointer[gateway.Gateway] // the attached gateway, read by parts
}

// newMonitor builds the monitor and starts the dashboard's sampler.
func newMonitor() (*monitor, error) {
	m := &monitor{registry: &breaker.Registry{}, metrics: prometheus.NewRegistry()}
	var err error
	if m.dash, err = dashboard.New(dashboard.Config{Title: "riprap drill: the payments gateway", Registry: m.registry,
		Parts: m.parts, Interval: dashboardInterval}); err != nil {
		return nil, err
	}
	m.collector = riprapprom.NewCollector().AddBreakers(m.registry).AddSnapshots(m.promSnapshots)
	if err := m.metrics.Register(m.collector); err != nil {
		return nil, err
	}
	m.status, m.serveGW = switchHandler()
	m.dash.Start()
	return m, nil
}

// listener is to be put in the gateway's Config.Listeners: the dashboard
// then records every transition of its breakers and health checks as it
// happens, with its reason, where sampling would miss a brief half-open.
func (m *monitor) listener() resilience.Listener { return m.dash.Listener() }

// attach shows gw, whose retry budgets are named in budgets, until the
// returned func is called.
func (m *monitor) attach(gw *gateway.Gateway, budgets map[string]*backoff.Budget) (detach func()) {
	m.dash.Add(dashboard.Config{Budgets: budgets})
	for _, name := range slices.Sorted(maps.Keys(budgets)) {
		m.collector.AddBudget(name, budgets[name])
	}
	m.gw.Store(gw)
	end := m.serveGW(gw.Handler())
	return func() {
		end()
		m.gw.Store(nil)
	}
}

// parts reads the attached gateway's status for what the dashboard cannot
// hold itself: each acquirer's rate limiter and the health targets.
func (m *monitor) parts() dashboard.Parts {
	gw := m.gw.Load()
	if gw == nil {
		return dashboard.Parts{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st := gw.Status(ctx)
	p := dashboard.Parts{Health: st.Health}
	for _, a := range st.Acquirers {
		p.Limiters = append(p.Limiters, limitOf(a))
	}
	return p
}

// promSnapshots is parts for Prometheus: the bank limiters and the health
// targets, under the names the components themselves would export.
func (m *monitor) promSnapshots() riprapprom.Snapshots {
	p := m.parts()
	return riprapprom.Snapshots{Limiters: p.Limiters, Bulkheads: p.Bulkheads, Health: p.Health}
}

// limitOf is an acquirer's limiter snapshot under the acquirer's name.
func limitOf(a gateway.AcquirerStatus) ratelimit.Snapshot {
	s := a.Limit
	if s.Name == "" {
		s.Name = a.Name
	}
	return s
}

// close stops the dashboard's sampler and ends its event streams, so that
// the server can shut down without waiting for them.
func (m *monitor) close() { m.dash.Close() }

// routes adds the monitor's paths to mux: the dashboard, the metrics, and
// the gateway's status and payments (GET only).
func (m *monitor) routes(mux *http.ServeMux) {
	mux.Handle("GET "+pathRoot+"{$}", http.RedirectHandler(pathDashboard, http.StatusFound))
	// The event stream outlives the server's WriteTimeout: the dashboard
	// sets a deadline of its own on each write.
	mux.Handle("GET "+pathDashboard, http.StripPrefix(strings.TrimSuffix(pathDashboard, "/"), m.dash))
	mux.Handle("GET "+pathMetrics, promhttp.HandlerFor(m.metrics, promhttp.HandlerOpts{}))
	mux.Handle("GET "+gateway.PathStatus, m.status)
	mux.Handle("GET "+gateway.PathPayments+"/{key}", m.status)
	mux.Handle("GET "+gateway.PathHealth, m.status)
}
