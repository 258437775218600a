package main

import (
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// gatewayConfig is the protected setup. Every policy keeps its default but
// these: the per-call timeouts shared with the unprotected run; two
// attempts per transfer, within a retry budget of 10% of the last two
// seconds' transfers, because retrying into a bank that hangs keeps
// workers waiting before the breaker can count the failures; a bank quota
// well above the drill's rate; health probes twice a second, so that a dead
// dependency is known within a second. The probes' timeout is left to the
// gateway, which derives it from each dependency's call timeout: a probe
// never judges a dependency by a stricter bar than its calls.
func gatewayConfig(bank payments.Bank, fx payments.FX, log payments.Log, t timeouts, listeners ...resilience.Listener) (gateway.Config, error) {
	budget, err := newDrillBudget()
	if err != nil {
		return gateway.Config{}, err
	}
	return gateway.Config{Bank: bank, FX: fx, Log: log, Listeners: listeners,
		BankPolicy: gateway.BankPolicy{Timeout: t.bank, Attempts: 2, Budget: budget,
			Rate: ratelimit.PerSecond(2000), Burst: 200},
		FXPolicy:          gateway.FXPolicy{Timeout: t.fx},
		LogPolicy:         gateway.LogPolicy{Timeout: t.log},
		Health:            gateway.HealthPolicy{Interval: healthInterval},
		ReconcileInterval: 250 * time.Millisecond}, nil
}

// newDrillBudget is a bank's retry budget: 10% of the last two seconds'
// transfers, at least 5 a second.
func newDrillBudget() (*backoff.Budget, error) {
	return backoff.NewBudget(backoff.BudgetConfig{Ratio: 0.1, MinPerSecond: 5, Window: 2 * time.Second})
}

// healthInterval is how often the drill's gateway probes each dependency.
const healthInterval = 500 * time.Millisecond

// stateChangesOnly passes state changes (breakers, health) to l and
// nothing else: the drill's log is about what changed, not about every
// retry. The snapshot attached to each event is dropped, to keep a line
// short.
func stateChangesOnly(l resilience.Listener) resilience.Listener {
	if l.Func == nil {
		return l
	}
	return resilience.OnKinds(func(e resilience.Event) {
		e.Detail = nil
		l.Func(e)
	}, resilience.EventStateChange)
}
