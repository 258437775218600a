package sim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
	"github.com/riprap-go/riprap/resilience"
)

// A scheduled outage on a mock clock, seen through the typed client: the
// refusal carries a Retry-After that resilience.RetryAfter reads.
func ExampleInjector() {
	mock := clock.NewMock()
	fx := sim.NewFX(sim.FXConfig{Clock: mock})
	_ = fx.SetRate(payments.USD, payments.EUR, payments.MustParseRate("0.9215"))
	inj, _ := sim.NewInjector(sim.InjectorConfig{Clock: mock, Faults: sim.Faults{
		Windows: []sim.Window{{Kind: sim.Outage, Start: time.Minute, End: 3 * time.Minute}},
	}})
	h, _ := sim.FXHandler(fx, inj)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client, _ := httpapi.NewFXClient(srv.URL, httpapi.ClientConfig{Clock: mock})

	for _, at := range []time.Duration{0, 2 * time.Minute, 3 * time.Minute} {
		mock.Set(inj.Epoch().Add(at))
		q, err := client.Quote(context.Background(), payments.USD, payments.EUR)
		wait, _ := resilience.RetryAfter(err)
		fmt.Println(at, q.Rate, errors.Is(err, httpapi.ErrOverloaded), wait)
	}
	// Output:
	// 0s 0.9215 false 0s
	// 2m0s 0/0 true 1m0s
	// 3m0s 0.9215 false 0s
}
