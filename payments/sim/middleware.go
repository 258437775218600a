package sim

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/riprap-go/riprap/payments/httpapi"
)

// Wrap returns next behind the injector's faults. Per request, in order:
// an active outage window refuses it; an injected error refuses it; the
// latency (plus active slowdowns) delays it, giving up if the request's
// context ends first; then next serves it, and with the lost-reply chance
// its answer is thrown away and replaced by a 502 or a closed connection.
// Refused requests never reach next, so they have no effect.
func (i *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := i.decide()
		if d.status != 0 {
			refuse(w, d)
			return
		}
		if d.delay > 0 && !readBody(r) {
			i.count(&i.stats.Cancelled)
			return
		}
		if d.delay > 0 && !i.wait(r, d.delay) {
			return
		}
		i.count(&i.stats.Passed)
		if !d.lose {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&discard{header: http.Header{}}, r) // commit, then lose the answer
		i.count(&i.stats.LostReplies)
		if d.mode == CloseConnection {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
		}
		httpapi.WriteError(w, http.StatusBadGateway, "bad_gateway", "upstream reply lost")
	})
}

// readBody reads the request body into memory before a delay. net/http
// notices a client that hung up — and cancels the request's context — only
// once the body has been read, so a delay in front of an unread body would
// hold its handler (and the server's Close) for its whole length. It
// reports false when the client went away while sending.
func readBody(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBuffered))
	if err != nil {
		return false
	}
	// Whatever lies past the limit stays in the original body, so the
	// handler's own size check still sees an oversized request.
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), r.Body), r.Body}
	return true
}

// maxBuffered bounds what readBody holds in memory per request.
const maxBuffered = 1 << 20

// wait delays the request by d on the injector's clock; it reports false
// (and counts a cancellation) when the request's context ends first.
func (i *Injector) wait(r *http.Request, d time.Duration) bool {
	t := i.clock.Timer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		i.count(&i.stats.Cancelled)
		return false
	}
}

func refuse(w http.ResponseWriter, d decision) {
	if d.retryAfter > 0 && (d.status == http.StatusServiceUnavailable || d.status == http.StatusTooManyRequests) {
		secs := (d.retryAfter + time.Second - 1) / time.Second // round up: never invite an early retry
		w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	httpapi.WriteError(w, d.status, d.code, "injected fault")
}

// discard is a ResponseWriter that forgets everything: the reply that gets
// lost.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BankHandler serves b over the httpapi bank API behind inj (nil: no
// faults). A nil b gives a handler that answers every request 500.
func BankHandler(b *Bank, inj *Injector) http.Handler {
	if b == nil {
		return broken("sim: BankHandler has a nil *Bank")
	}
	h, err := httpapi.NewBankHandler(b, httpapi.HandlerConfig{})
	return behind(inj, h, err)
}

// FXHandler serves fx over the httpapi FX API behind inj (nil: no faults).
// A nil fx gives a handler that answers every request 500.
func FXHandler(fx *FX, inj *Injector) http.Handler {
	if fx == nil {
		return broken("sim: FXHandler has a nil *FX")
	}
	h, err := httpapi.NewFXHandler(fx, httpapi.HandlerConfig{})
	return behind(inj, h, err)
}

// LogHandler serves l over the httpapi log API, single and batch appends,
// behind inj (nil: no faults). A nil l gives a handler that answers every
// request 500.
func LogHandler(l *Log, inj *Injector) http.Handler {
	if l == nil {
		return broken("sim: LogHandler has a nil *Log")
	}
	h, err := httpapi.NewLogHandler(l, httpapi.HandlerConfig{})
	return behind(inj, h, err)
}

// behind puts h behind inj. err is the handler constructor's, which the
// zero HandlerConfig and a non-nil service cannot cause: kept visible all
// the same rather than dropped.
func behind(inj *Injector, h http.Handler, err error) http.Handler {
	if err != nil {
		return broken(err.Error())
	}
	if inj == nil {
		return h
	}
	return inj.Wrap(h)
}

// broken answers every request 500 with msg: a programmer error shown to
// whoever calls, never a panic.
func broken(msg string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteError(w, http.StatusInternalServerError, httpapi.CodeInternal, msg)
	})
}
