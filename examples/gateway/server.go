package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
)

// The -listen server answers GET (and HEAD) on these paths only, and 404
// or 405 to anything else: pathRoot (a redirect to the dashboard), the
// live dashboard under pathDashboard, Prometheus metrics at pathMetrics,
// the gateway's status at gateway.PathStatus, a payment's result at
// gateway.PathPayments/{key}, and gateway.PathHealth. Paying is not among
// them: the drill's workload is the only payer.
const pathRoot = "/"

// The -listen server's timeouts: a status page is small, so a client that
// takes longer than this to send its request or read the answer is cut
// off rather than holding a connection for good.
const (
	serverReadHeaderTimeout = 5 * time.Second
	serverReadTimeout       = 10 * time.Second
	serverWriteTimeout      = 10 * time.Second
	serverIdleTimeout       = time.Minute
)

// statusServer serves the monitor of the protected run on addr: the live
// dashboard, the metrics and the gateway's status. It warns when addr is
// not a loopback address: the status names payments and breakers, and the
// drill has no authentication.
func statusServer(addr string, pr *printer) (m *monitor, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("-listen: %w", err)
	}
	if m, err = newMonitor(); err != nil {
		_ = ln.Close()
		return nil, nil, err
	}
	srv := newStatusHTTPServer(m)
	go func() { _ = srv.Serve(ln) }()
	if !isLoopback(ln.Addr()) {
		pr.warn(fmt.Sprintf("-listen %s is not a loopback address: any host that can reach it reads the gateway's status", ln.Addr()))
	}
	base := "http://" + ln.Addr().String()
	pr.info("serving the live dashboard on "+base+pathDashboard, notice{URL: base + pathDashboard})
	pr.info("serving Prometheus metrics on "+base+pathMetrics, notice{URL: base + pathMetrics})
	pr.info("serving the gateway status on "+base+gateway.PathStatus, notice{URL: base + gateway.PathStatus})
	stop = func() {
		m.close() // ends the event streams, which Shutdown would wait for
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return m, stop, nil
}

// newStatusHTTPServer routes GET requests for the monitor's paths, with
// the server's timeouts.
func newStatusHTTPServer(m *monitor) *http.Server {
	mux := http.NewServeMux()
	m.routes(mux)
	return &http.Server{Handler: mux, ReadHeaderTimeout: serverReadHeaderTimeout, ReadTimeout: serverReadTimeout,
		WriteTimeout: serverWriteTimeout, IdleTimeout: serverIdleTimeout}
}

// isLoopback reports whether a listener's address accepts loopback
// connections only. An unspecified address (0.0.0.0, ::) accepts every
// interface's.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// switchHandler serves whatever handler is installed with serve, and 503
// while none is (during the unprotected run, which has no gateway).
func switchHandler() (http.Handler, func(http.Handler) func()) {
	var current atomic.Pointer[http.Handler]
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := current.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "no gateway is running now (the unprotected run has none)", http.StatusServiceUnavailable)
	})
	serve := func(next http.Handler) func() {
		current.Store(&next)
		return func() { current.Store(nil) }
	}
	return h, serve
}
