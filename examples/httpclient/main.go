// Command httpclient shows riprap around net/http: a [Transport] (an
// http.RoundTripper) puts a circuit breaker and a retry in front of a flaky
// local server, and an ordinary http.Client uses it.
//
//	go run ./examples/httpclient
package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
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

// run tells the story against the server at url, reached through base.
func run(out io.Writer, base http.RoundTripper, url string, server *flaky) error {
	br, err := breaker.New(breaker.Config{Name: "rates", ConsecutiveFailures: 2, OpenWait: openWait})
	if err != nil {
		return err
	}
	pause, err := backoff.Constant(10 * time.Millisecond)
	if err != nil {
		return err
	}
	tr, err := NewTransport(Config{Base: base, Breaker: br, Attempts: 3, Backoff: pause})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	send := func(method, label string, header ...string) {
		before := server.count()
		req, _ := http.NewRequest(method, url+"/rate", strings.NewReader("{}"))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		fmt.Fprintf(out, "  %-40s %-38s server saw %d, breaker %s\n", label, describe(client.Do(req)),
			server.count()-before, br.State())
	}
	fmt.Fprintln(out, "Server up:")
	send("GET", "GET")
	fmt.Fprintln(out, "Server flaky (every other request fails):")
	server.set("flaky")
	send("GET", "GET (retried)")
	send("POST", "POST with an Idempotency-Key (retried)", "Idempotency-Key", "order-42")
	send("POST", "POST (not idempotent: not retried)")
	fmt.Fprintln(out, "Server down (after the failed POST, a second failure in a row opens the breaker):")
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
