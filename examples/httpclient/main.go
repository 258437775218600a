// Command httpclient shows riprap around net/http: an httpx.Transport (an
// http.RoundTripper) puts a circuit breaker per host and a retry in front
// of a flaky local server, and an ordinary http.Client uses it.
//
//	go run ./examples/httpclient
package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/httpx"
)

func main() {
	srv := httptest.NewServer(newFlaky())
	defer srv.Close()
	if err := run(os.Stdout, srv.Client().Transport, srv.URL, srv.Config.Handler.(*flaky)); err != nil {
		fmt.Fprintln(os.Stderr, "httpclient:", err)
		os.Exit(1)
	}
}

// flaky is the server: "up" answers 200, "flaky" fails every other
// request with a 503 (the first one since it turned flaky included),
// "down" fails them all. It counts the requests.
type flaky struct {
	mu       sync.Mutex // protects the fields below
	mode     string
	requests int
	inMode   int // requests since the mode was set
}

func newFlaky() *flaky { return &flaky{mode: "up"} }

func (f *flaky) set(mode string) { f.mu.Lock(); f.mode, f.inMode = mode, 0; f.mu.Unlock() }

func (f *flaky) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.requests }

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	f.requests++
	f.inMode++
	fail := f.mode == "down" || f.mode == "flaky" && f.inMode%2 == 1
	f.mu.Unlock()
	if fail {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprint(w, "0.9215")
}

const openWait = 500 * time.Millisecond

// newClient is the whole integration: a transport with a breaker per host
// that opens after four failures in a row, and up to three attempts, 10ms
// apart, for requests that are safe to repeat.
func newClient(base http.RoundTripper) (*http.Client, *httpx.Transport, error) {
	tr, err := httpx.NewTransport(httpx.TransportConfig{
		Base:        base,
		MaxAttempts: 3,
		Backoff:     backoff.Constant(10 * time.Millisecond),
		Breaker:     breaker.Config{ConsecutiveFailures: 4, OpenWait: openWait},
	})
	if err != nil {
		return nil, nil, err
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}, tr, nil
}

// run tells the story against the server at target, reached through base.
func run(out io.Writer, base http.RoundTripper, target string, server *flaky) error {
	client, tr, err := newClient(base)
	if err != nil {
		return err
	}
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	state := func() string {
		if br, ok := tr.Breaker(u.Host); ok { // the breaker of the server's host
			return br.State().String()
		}
		return "none yet"
	}
	send := func(method, label string, header ...string) {
		before := server.count()
		req, _ := http.NewRequest(method, target+"/rate", strings.NewReader("{}"))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		fmt.Fprintf(out, "  %-40s %-38s server saw %d, breaker %s\n", label, describe(client.Do(req)),
			server.count()-before, state())
	}
	fmt.Fprintln(out, "Server up:")
	send("GET", "GET")
	fmt.Fprintln(out, "Server flaky (every other request fails):")
	server.set("flaky")
	send("GET", "GET (retried)")
	send("POST", "POST with an Idempotency-Key (retried)", "Idempotency-Key", "order-42")
	send("POST", "POST (not idempotent: not retried)")
	fmt.Fprintln(out, "Server down (the POST's failure and three more in a row open the breaker):")
	server.set("down")
	send("GET", "GET (3 attempts)")
	send("GET", "GET while open")
	fmt.Fprintln(out, "Server up again, after the breaker's wait:")
	server.set("up")
	time.Sleep(openWait)
	send("GET", "GET (the probe that closes it)")
	return nil
}

// describe says how a request ended, closing the response.
func describe(resp *http.Response, err error) string {
	if err != nil {
		if errors.Is(err, breaker.ErrOpen) {
			wait, _ := resilience.RetryAfter(err)
			return fmt.Sprintf("refused: breaker open (retry in %s)", wait.Round(10*time.Millisecond))
		}
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}
