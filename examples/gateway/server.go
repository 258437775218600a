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
// or 405 to anything else: the gateway's status at pathRoot (a redirect)
// and gateway.PathStatus, a payment's result at gateway.PathPayments/{key},
// and gateway.PathHealth. Paying is not among them: the drill's workload
// is the only payer.
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

// statusServer serves the current gateway's status on addr; serve installs
// a gateway's handler until the func it returns is called. It warns when
// addr is not a loopback address: the status names payments and breakers,
// and the drill has no authentication.
func statusServer(addr string, pr *printer) (serve func(http.Handler) func(), stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("-listen: %w", err)
	}
	h, serve := switchHandler()
	srv := newStatusHTTPServer(h)
	go func() { _ = srv.Serve(ln) }()
	if !isLoopback(ln.Addr()) {
		pr.warn(fmt.Sprintf("-listen %s is not a loopback address: any host that can reach it reads the gateway's status", ln.Addr()))
	}
	url := "http://" + ln.Addr().String() + gateway.PathStatus
	pr.info("serving the gateway status on "+url, notice{URL: url})
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return serve, stop, nil
}

// newStatusHTTPServer routes GET requests for the known paths to h (the
// gateway's own handler, while one runs), with the server's timeouts.
func newStatusHTTPServer(h http.Handler) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+pathRoot+"{$}", http.RedirectHandler(gateway.PathStatus, http.StatusFound))
	mux.Handle("GET "+gateway.PathStatus, h)
	mux.Handle("GET "+gateway.PathPayments+"/{key}", h)
	mux.Handle("GET "+gateway.PathHealth, h)
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
