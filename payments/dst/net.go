package dst

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments/httpapi"
)

// Headers by which the run's transports tell the handlers behind them
// which request they serve. They never reach the production handlers'
// logic: the gateway and the services ignore unknown headers.
const (
	hdrReq = "X-Dst-Req" // the request's number in the run
	hdrAt  = "X-Dst-At"  // when it entered, in Unix nanoseconds of the bubble
)

// depTransport carries one gateway's requests to one simulated service,
// in-process (through httpapi.HandlerTransport). A request takes a ticket
// on its way out and another when its answer (or its caller's deadline)
// comes back; it is cut, as a connection is, when its gateway crashes.
type depTransport struct {
	r   *runner
	inc *incarnation
	dep string
	rt  http.RoundTripper
}

func (t *depTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readAll(req)
	if err != nil {
		return nil, err
	}
	if t.inc.dead() {
		return nil, errCrashed
	}
	t.r.seq.enter(fmt.Sprintf("n>%s/%s/%s %s/%x", t.dep, labelOf(req.Context()), req.Method, req.URL.RequestURI(),
		hash64(0, string(body))))
	if t.inc.dead() {
		return nil, errCrashed
	}
	n := t.r.newRequest()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(t.inc.death, cancel)
	defer stop()
	out := outgoing(ctx, req, body, n)
	what := kindOf(t.dep, req)
	t.inc.track(what, 1)
	resp, err := t.rt.RoundTrip(out)
	t.r.seq.enter(fmt.Sprintf("n<%s/%s", t.dep, n))
	t.inc.track(what, -1)
	return resp, err
}

// gatewayTransport carries the clients' requests to whichever gateway is
// up. While none is (between a crash and the restart), a request fails as
// a refused connection does.
type gatewayTransport struct{ r *runner }

func (t *gatewayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readAll(req)
	if err != nil {
		return nil, err
	}
	label := labelOf(req.Context())
	t.r.seq.enter("c>" + label)
	inc := t.r.current()
	if inc == nil || inc.dead() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errCrashed}
	}
	n := t.r.newRequest()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(inc.death, cancel)
	defer stop()
	resp, err := inc.handler.RoundTrip(outgoing(ctx, req, body, n))
	t.r.seq.enter("c<" + n)
	if err == nil {
		t.r.noteHTTP(label, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	return resp, err
}

// outgoing is req under ctx, with its body and the run's headers.
func outgoing(ctx context.Context, req *http.Request, body []byte, n string) *http.Request {
	out := req.Clone(ctx)
	out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	out.Header.Set(hdrReq, n)
	out.Header.Set(hdrAt, strconv.FormatInt(time.Now().UnixNano(), 10))
	return out
}

func readAll(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// sequenced puts h behind a ticket when the request was delayed on its way
// (by the injector's latency): it then wakes on a timer, maybe at the same
// instant as other goroutines, and must wait its turn before it reaches
// the service. An undelayed request is still in the turn of the goroutine
// that sent it.
func (r *runner) sequenced(dep string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get(hdrAt) != strconv.FormatInt(time.Now().UnixNano(), 10) {
			r.seq.enter("h/" + dep + "/" + req.Header.Get(hdrReq))
		}
		h.ServeHTTP(w, req)
	})
}

// labelled gives a gateway's requests the label of the client request
// they serve, so that the tickets they take carry it.
func labelled(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.ServeHTTP(w, req.WithContext(withLabel(req.Context(), "r"+req.Header.Get(hdrReq))))
	})
}

// kindOf names what a request to dep does, for the counts of requests in
// flight: "bank status" for every status lookup whatever its key and bank.
func kindOf(dep string, req *http.Request) string {
	switch {
	case (dep == "bank" || dep == "bank2") && req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, httpapi.PathTransfers+"/"):
		return "bank status"
	case dep == "log" && req.URL.Path == httpapi.PathEntriesBatch:
		return "log batch"
	}
	return dep + " " + req.Method + " " + req.URL.Path
}
