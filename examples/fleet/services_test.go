package main

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

// Accounts of the test's payments: payers with ample funds, so that no
// payment is declined for lack of them, and one payee.
var (
	payers = []payments.AccountID{"acct_payer0001", "acct_payer0002", "acct_payer0003"}
	payee  = payments.AccountID("acct_shop00001")
)

// services are the bank, FX and log the fleet pays through, each served
// over loopback. The bank's own records (sim.Bank) are the truth the
// checks read; bankDoor in front of it can play dead and counts what
// reaches it.
type services struct {
	bank                   *sim.Bank
	door                   *bankDoor
	bankURL, fxURL, logURL string
}

// startServices serves the three simulated dependencies until t ends.
func startServices(t *testing.T) *services {
	t.Helper()
	s := &services{bank: sim.NewBank(sim.BankConfig{}), door: &bankDoor{}}
	for _, p := range payers {
		require.NoError(t, s.bank.Open(p, payments.New(1_000_000_000, payments.USD)))
	}
	require.NoError(t, s.bank.Open(payee, payments.New(0, payments.USD)))
	inj := func() *sim.Injector {
		i, err := sim.NewInjector(sim.InjectorConfig{})
		require.NoError(t, err)
		return i
	}
	s.door.next = sim.BankHandler(s.bank, inj())
	s.bankURL = serve(t, s.door)
	s.fxURL = serve(t, sim.FXHandler(sim.NewFX(sim.FXConfig{}), inj()))
	s.logURL = serve(t, sim.LogHandler(sim.NewLog(sim.LogConfig{}), inj()))
	return s
}

func serve(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// bankDoor stands in front of the simulated bank. While dead it answers
// every request 503 without passing it on, and counts the transfers that
// knocked: the calls a fleet sends to a dead bank. While alive it notes
// the arrival time of every transfer it lets through, for the rate check.
// It is safe for concurrent use.
type bankDoor struct {
	next http.Handler

	mu        sync.Mutex // protects the fields below
	dead      bool
	deadCalls int
	deadBy    map[string]int // dead calls by the process that sent them
	arrivals  []time.Time
}

func (d *bankDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	transfer := r.Method == http.MethodPost && r.URL.Path == httpapi.PathTransfers
	d.mu.Lock()
	dead := d.dead
	switch {
	case dead && transfer:
		d.deadCalls++
		if d.deadBy == nil {
			d.deadBy = map[string]int{}
		}
		d.deadBy[r.Header.Get(InstanceHeader)]++
	case transfer:
		d.arrivals = append(d.arrivals, time.Now())
	}
	d.mu.Unlock()
	if dead {
		httpapi.WriteError(w, http.StatusServiceUnavailable, "unavailable", "the bank is down")
		return
	}
	d.next.ServeHTTP(w, r)
}

// setDead kills or revives the bank and returns the transfers that have
// reached it dead so far.
func (d *bankDoor) setDead(dead bool) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = dead
	return d.deadCalls
}

// deadCallsBy returns the dead calls so far, by the process that sent
// them.
func (d *bankDoor) deadCallsBy() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.deadBy)
}

// admitted returns the arrival times of the transfers the bank took.
func (d *bankDoor) admitted() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.arrivals...)
}
