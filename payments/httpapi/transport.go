package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Errors of the in-process transport ([HandlerTransport]), seen by a client
// as transport failures.
var (
	// ErrConnectionClosed: the handler hijacked the connection and closed
	// it without a reply, as a server that drops a connection would.
	ErrConnectionClosed = errors.New("httpapi: in-process handler closed the connection without a reply")
	// ErrHandlerPanicked: the handler panicked; a server would log it and
	// close the connection.
	ErrHandlerPanicked = errors.New("httpapi: in-process handler panicked")
)

// HandlerTransport returns an http.RoundTripper that serves each request
// with h in-process: no socket, no port, no real time — the way a
// deterministic simulation (testing/synctest, a mock clock, one seed) runs
// a client against a simulated service:
//
//	h, _ := sim.BankHandler(bank, injector)
//	hc := &http.Client{Transport: httpapi.HandlerTransport(h)}
//	client, _ := httpapi.NewBankClient("http://bank.sim", httpapi.ClientConfig{HTTPClient: hc})
//
// The handler sees a server-side request: a context of its own carrying
// none of the caller's values or deadline, cancelled when the caller's
// context ends (as a server's is when its client hangs up) and when the
// handler returns. The response is delivered once the handler returns. When
// the caller's context ends first, RoundTrip returns its error at once; the
// handler finishes on its own goroutine and its answer is discarded — so a
// handler may commit work whose reply is lost, as over a network. A handler
// that hijacks the connection and closes it gives [ErrConnectionClosed],
// one that panics [ErrHandlerPanicked]: transport failures to a client. A
// nil h fails every request. The transport is safe for concurrent use.
func HandlerTransport(h http.Handler) http.RoundTripper { return handlerTransport{h: h} }

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	switch {
	case t.h == nil:
		closeBody(req)
		return nil, errors.New("httpapi: HandlerTransport has a nil handler")
	case ctx.Err() != nil:
		closeBody(req)
		return nil, ctx.Err()
	}
	sctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel)
	sreq, err := serverRequest(req, sctx)
	if err != nil {
		stop()
		cancel()
		closeBody(req)
		return nil, err
	}
	done := make(chan roundTrip, 1) // buffered: the handler never waits for a caller who left
	go func() {
		rt := serve(t.h, sreq, req)
		// As a server does, end the request's context when the handler
		// returns, before the caller can see the answer.
		stop()
		cancel()
		closeBody(req)
		done <- rt
	}()
	select {
	case rt := <-done:
		return rt.resp, rt.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type roundTrip struct {
	resp *http.Response
	err  error
}

// serve runs h on sreq and builds the response the client (of req) sees.
func serve(h http.Handler, sreq, req *http.Request) (rt roundTrip) {
	w := &responseRecorder{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			rt = roundTrip{err: fmt.Errorf("%w: %v", ErrHandlerPanicked, p)}
		}
	}()
	h.ServeHTTP(w, sreq)
	if w.hijacked {
		return roundTrip{err: ErrConnectionClosed}
	}
	return roundTrip{resp: w.response(req)}
}

// serverRequest is req as a server would see it, under ctx.
func serverRequest(req *http.Request, ctx context.Context) (*http.Request, error) {
	s := req.Clone(ctx)
	s.RequestURI = req.URL.RequestURI()
	u, err := url.ParseRequestURI(s.RequestURI)
	if err != nil {
		return nil, fmt.Errorf("httpapi: HandlerTransport: %w", err)
	}
	s.URL = u
	if s.Host == "" {
		s.Host = req.URL.Host
	}
	s.Proto, s.ProtoMajor, s.ProtoMinor = "HTTP/1.1", 1, 1
	s.RemoteAddr = "192.0.2.1:1234" // TEST-NET-1: no real peer
	s.Body, s.GetBody = req.Body, nil
	if s.Body == nil {
		s.Body = http.NoBody
	}
	if req.URL.Scheme == "https" {
		s.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: req.URL.Hostname()}
	}
	return s, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// responseRecorder is the handler's ResponseWriter: it keeps the status,
// the headers as they were when the status was written, and the body. It
// is used by the handler's goroutine alone.
type responseRecorder struct {
	header   http.Header
	sent     http.Header // header at WriteHeader; nil before
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (w *responseRecorder) Header() http.Header { return w.header }

func (w *responseRecorder) WriteHeader(code int) {
	if w.sent != nil || w.hijacked || code >= 100 && code < 200 {
		return // a second status is ignored, as by a server; 1xx are interim
	}
	if code < 200 || code > 999 {
		code = http.StatusInternalServerError // a server would refuse it; never panic here
	}
	w.status, w.sent = code, w.header.Clone()
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// Flush does nothing: the response is delivered when the handler returns.
func (w *responseRecorder) Flush() {}

// Hijack hands over a connection that reads nothing and discards what is
// written; the client sees the connection closed without a reply.
func (w *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.sent != nil {
		return nil, nil, errors.New("httpapi: Hijack after WriteHeader")
	}
	w.hijacked = true
	c := nullConn{}
	return c, bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c)), nil
}

func (w *responseRecorder) response(req *http.Request) *http.Response {
	w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
	h := w.sent
	if _, ok := h["Content-Type"]; !ok && w.body.Len() > 0 {
		h.Set("Content-Type", http.DetectContentType(w.body.Bytes()))
	}
	body := w.body.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}
	return &http.Response{Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}
}

// nullConn is the connection a hijacking handler gets.
type nullConn struct{}

func (nullConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (nullConn) Write(b []byte) (int, error)      { return len(b), nil }
func (nullConn) Close() error                     { return nil }
func (nullConn) LocalAddr() net.Addr              { return nullAddr{} }
func (nullConn) RemoteAddr() net.Addr             { return nullAddr{} }
func (nullConn) SetDeadline(time.Time) error      { return nil }
func (nullConn) SetReadDeadline(time.Time) error  { return nil }
func (nullConn) SetWriteDeadline(time.Time) error { return nil }

type nullAddr struct{}

func (nullAddr) Network() string { return "in-process" }
func (nullAddr) String() string  { return "in-process" }
