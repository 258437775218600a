package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/dashboard"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// A dashboard mounted under /dashboard/, reading the breakers of a
// registry. The breaker is made after the dashboard and takes its
// listener, so the dashboard sees its transitions as they happen; a
// program would call Start, and people would open /dashboard/ in a
// browser. Here a client reads the JSON.
func Example() {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC))
	reg := &breaker.Registry{}
	d, err := dashboard.New(dashboard.Config{Registry: reg, Clock: clk})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	bank, err := reg.GetOrCreate("bank", breaker.Config{ConsecutiveFailures: 1, Clock: clk,
		Listeners: resilience.Listeners{d.Listener()}})
	if err != nil {
		panic(err)
	}
	clk.Add(time.Second)
	p, _ := bank.Allow()
	p.Done(resilience.Failure)

	mux := http.NewServeMux()
	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", d))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/dashboard/snapshot")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var s struct {
		Breakers []struct {
			Snapshot breaker.Snapshot
			Timeline []dashboard.Transition
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		panic(err)
	}
	for _, b := range s.Breakers {
		fmt.Println(b.Snapshot.Name, "is", b.Snapshot.State)
		for _, t := range b.Timeline {
			when := "before the dashboard heard of it"
			if !t.At.IsZero() {
				when = "at " + t.At.Format(time.TimeOnly)
			}
			fmt.Println(" ", t.State, when)
		}
	}
	// Output:
	// bank is open
	//   closed before the dashboard heard of it
	//   open at 15:04:06
}

// A health checker takes its listeners when it is built, after the
// dashboard whose listener it takes: Add shows it.
func ExampleDashboard_Add() {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC))
	d, err := dashboard.New(dashboard.Config{Clock: clk})
	if err != nil {
		panic(err)
	}
	chk, err := health.New(health.Config{Interval: time.Second, Clock: clk, Listeners: resilience.Listeners{d.Listener()}},
		health.Target{Name: "fx", Probe: func(context.Context) error { return nil }})
	if err != nil {
		panic(err)
	}
	d.Add(dashboard.Config{Health: chk})

	clk.Add(time.Second)
	if _, err := chk.Probe(context.Background(), "fx"); err != nil {
		panic(err)
	}
	for _, t := range d.Snapshot().Health {
		fmt.Println(t.Snapshot.Name, "is", t.Snapshot.Status)
		for _, tr := range t.Timeline {
			if tr.At.IsZero() {
				fmt.Println(" ", tr.State, "from the start")
				continue
			}
			fmt.Println(" ", tr.State, "at", tr.At.Format(time.TimeOnly))
		}
	}
	// Output:
	// fx is healthy
	//   unknown from the start
	//   healthy at 15:04:06
}

// Components built inside another package that shows only their
// snapshots (a gateway's rate limiter, in its status) are shown through
// Parts.
func ExampleParts() {
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{Name: "bank", Rate: ratelimit.PerSecond(10), Burst: 5})
	if err != nil {
		panic(err)
	}
	status := func() ratelimit.Snapshot { return lim.Snapshot() } // what the other package shows
	d, err := dashboard.New(dashboard.Config{Parts: func() dashboard.Parts {
		return dashboard.Parts{Limiters: []ratelimit.Snapshot{status()}}
	}})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	for _, l := range d.Snapshot().Limiters {
		fmt.Println(l.Name, "burst", l.Burst)
	}
	// Output:
	// bank burst 5
}
