package httpx_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riprap-go/riprap/resilience/httpx"
)

// A GET hedged after 20ms: the first attempt hangs, the hedge answers and
// wins, and the first attempt is cancelled (its server sees its client
// go), so nothing is left running.
func ExampleTransport_hedging() {
	var n atomic.Int32
	cancelled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done() // a slow replica
			close(cancelled)
			return
		}
		fmt.Fprint(w, "from the hedge")
	}))
	defer srv.Close()

	tr, err := httpx.NewTransport(httpx.TransportConfig{HedgeDelay: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	<-cancelled
	fmt.Println(resp.StatusCode, string(body))
	fmt.Println("first attempt cancelled; requests:", n.Load())
	// Output:
	// 200 from the hedge
	// first attempt cancelled; requests: 2
}

// Which requests the transport may send more than once by default.
func ExampleSafeToRepeat() {
	get, _ := http.NewRequest(http.MethodGet, "http://bank.test/transfers/order-42", nil)
	post, _ := http.NewRequest(http.MethodPost, "http://bank.test/transfers", strings.NewReader("{}"))
	fmt.Println("GET:", httpx.SafeToRepeat(get))
	fmt.Println("POST:", httpx.SafeToRepeat(post))
	post.Header.Set("Idempotency-Key", "order-42") // the server applies it once per key
	fmt.Println("POST with Idempotency-Key:", httpx.SafeToRepeat(post))
	// Output:
	// GET: true
	// POST: false
	// POST with Idempotency-Key: true
}

// A client that wants only the status drains the body instead of closing
// it unread, so the next request reuses the connection.
func ExampleDrainBody() {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, strings.Repeat("report line\n", 1000))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: base}
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		fmt.Println(resp.StatusCode)
		httpx.DrainBody(resp.Body)
	}
	fmt.Println("connections:", conns.Load())
	// Output:
	// 200
	// 200
	// 200
	// connections: 1
}

// A liveness endpoint answers 200 while the process runs, whatever its
// dependencies do: restarting it would not mend them.
func ExampleLivenessHandler() {
	rec := httptest.NewRecorder()
	httpx.LivenessHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
	fmt.Println(rec.Code, strings.Join(strings.Fields(rec.Body.String()), " "))
	// Output:
	// 200 { "live": true }
}
