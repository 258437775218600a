package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
)

// answer is what a client was told about a payment.
type answer struct {
	State      gateway.State
	TransferID string
}

// clients pay through the fleet the way a shop's servers would: payments
// spread over the nodes in turn, a payment whose node did not answer sent
// again (same idempotency key) to the next one, and one payment in four
// sent twice on purpose, to a second node, as an impatient client
// would. It remembers every key sent and every answer. It is safe for
// concurrent use.
type clients struct {
	mu      sync.Mutex // protects the fields below
	sent    []string
	reqs    map[string]payments.PaymentRequest
	answers map[string][]answer
	count   int
	resent  int // sends that got no answer and went to the next node

	wg sync.WaitGroup
}

func newClients() *clients {
	return &clients{answers: map[string][]answer{}, reqs: map[string]payments.PaymentRequest{}}
}

// drive sends rate payments a second, named after phase, spread over
// nodes, until ctx ends; then waits for those in flight.
func (c *clients) drive(ctx context.Context, phase string, rate int, nodes []*nodeProc) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			c.wg.Wait()
			return
		case <-tick.C:
		}
		c.mu.Lock()
		i := c.count
		c.count++
		key := fmt.Sprintf("%s-%05d", phase, i)
		req := request(key, i)
		c.sent = append(c.sent, key)
		c.reqs[key] = req
		c.mu.Unlock()
		c.wg.Go(func() { c.pay(req, i, nodes) })
	}
}

// request is the i-th payment, under key.
func request(key string, i int) payments.PaymentRequest {
	return payments.PaymentRequest{IdempotencyKey: key, Payer: payers[i%len(payers)], Payee: payee,
		Amount: payments.New(int64(100+i%900), payments.USD), Description: "fleet test"}
}

// pay sends req to node i mod len(nodes), and to the next ones until one
// answers; one payment in four is then sent again to the next node.
func (c *clients) pay(req payments.PaymentRequest, i int, nodes []*nodeProc) {
	first := c.send(req, i, nodes)
	if first >= 0 && i%4 == 0 {
		c.send(req, first+1, nodes)
	}
}

// send tries the nodes from index from on, and returns the index of the
// one that answered, or -1.
func (c *clients) send(req payments.PaymentRequest, from int, nodes []*nodeProc) int {
	for k := range 2 * len(nodes) {
		j := (from + k) % len(nodes)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := nodes[j].client.Pay(ctx, req)
		cancel()
		if err == nil {
			c.record(req.IdempotencyKey, res)
			return j
		}
		c.mu.Lock()
		c.resent++
		c.mu.Unlock()
		time.Sleep(10 * time.Millisecond) // real sockets: a dead node refuses at once
	}
	return -1
}

func (c *clients) record(key string, res gateway.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers[key] = append(c.answers[key], answer{State: res.State, TransferID: res.TransferID})
}

// resends returns how many sends got no answer and went on to the next
// node.
func (c *clients) resends() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resent
}

// keys returns every key sent.
func (c *clients) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sent...)
}

// unanswered returns the requests no node answered.
func (c *clients) unanswered() []payments.PaymentRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []payments.PaymentRequest
	for _, k := range c.sent {
		if len(c.answers[k]) == 0 {
			out = append(out, c.reqs[k])
		}
	}
	return out
}

// given returns a copy of every answer, by key.
func (c *clients) given() map[string][]answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]answer, len(c.answers))
	for k, as := range c.answers {
		out[k] = append([]answer(nil), as...)
	}
	return out
}

// succeeded counts the answers Succeeded given for keys of phase.
func (c *clients) succeeded(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, as := range c.answers {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			for _, a := range as {
				if a.State == gateway.Succeeded {
					n++
				}
			}
		}
	}
	return n
}

// fleetStatus is the part of gateway.Status the drain waits on; the store
// is shared, so any node's status counts the whole fleet's payments.
type fleetStatus struct {
	Pending   int `json:"pending"`
	Open      int `json:"open"`
	LogQueued int `json:"log_queued"`
}

func (s fleetStatus) drained() bool { return s.Pending == 0 && s.Open == 0 && s.LogQueued == 0 }

// status reads a node's status.
func status(ctx context.Context, p *nodeProc) (fleetStatus, error) {
	var s fleetStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+gateway.PathStatus, nil)
	if err != nil {
		return s, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// fleetCounts is the part of a node's PathFleet answer the tests read
// (the snapshots marshal one way only).
type fleetCounts struct {
	Breaker *struct {
		Published, Adopted, Holds, Errors uint64
	} `json:"breaker"`
	Limiter *struct {
		Admitted, Rejected, Fallbacks, Errors uint64
	} `json:"limiter"`
}

// readFleet reads a node's view of the fleet.
func readFleet(ctx context.Context, p *nodeProc) (fleetCounts, error) {
	var v fleetCounts
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+PathFleet, nil)
	if err != nil {
		return v, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	return v, json.NewDecoder(resp.Body).Decode(&v)
}
