package gateway

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
)

// Acquirer is one bank the gateway can send payments to, with pipelines of
// its own. It is plain data; see [Config.Acquirers] and, for how payments
// are routed among acquirers, the package doc.
type Acquirer struct {
	// Name identifies the acquirer: in the store (store.Record.Bank says
	// which acquirer a payment was handed to), in results and in the
	// status, and as the name of its breaker, rate limiter, retry, timeout
	// and health target; the breaker of its status lookups is
	// Name+"-status". Required: at most 64 letters, digits, '-', '_' or
	// '.', unique, neither "fx" nor "log". Keep it stable across restarts:
	// the reconciler finds a pending payment's bank by this name.
	Name string
	// Bank is the acquirer's client; required. A client with a method
	// Health(context.Context) error is probed (see [HealthPolicy]).
	Bank payments.Bank
	// Policy configures the acquirer's pipelines; its zero values mean the
	// defaults documented on [BankPolicy].
	Policy BankPolicy
	// Weight shares first tries among consecutive acquirers that all have
	// one (at most 10000): acquirers {A, Weight 3}, {B, Weight 1}, {C}
	// send three payments in four to A first and one to B, and C comes
	// after both. Zero means the acquirer stands alone at its place in the
	// order.
	Weight int
}

// maxWeight bounds Acquirer.Weight, so that the router's credits never
// overflow.
const maxWeight = 10000

// singleBankName is the acquirer that [Config.Bank] stands for.
const singleBankName = "bank"

// acquirerConfigs returns the acquirers c describes: Acquirers, or Bank
// and BankPolicy as one acquirer named "bank".
func (c *Config) acquirerConfigs() []Acquirer {
	if len(c.Acquirers) > 0 {
		return append([]Acquirer(nil), c.Acquirers...)
	}
	return []Acquirer{{Name: singleBankName, Bank: c.Bank, Policy: c.BankPolicy}}
}

// validateBanks checks Bank, BankPolicy and Acquirers.
func (c *Config) validateBanks() []error {
	if len(c.Acquirers) == 0 {
		var errs []error
		if c.Bank == nil {
			errs = append(errs, configError("Bank", "is required", nil))
		}
		return append(errs, c.BankPolicy.validate("BankPolicy.")...)
	}
	var errs []error
	if c.Bank != nil {
		errs = append(errs, configError("Bank", "must be nil when Acquirers is set", "set"))
	}
	if !reflect.ValueOf(c.BankPolicy).IsZero() {
		errs = append(errs, configError("BankPolicy", "must be zero when Acquirers is set (each acquirer has its own Policy)", "set"))
	}
	names := map[string]bool{}
	for _, a := range c.Acquirers {
		names[a.Name] = true
	}
	seen := map[string]bool{}
	for i, a := range c.Acquirers {
		field := fmt.Sprintf("Acquirers[%d].", i)
		if rule := nameRule(a.Name, seen, names); rule != "" {
			errs = append(errs, configError(field+"Name", rule, a.Name))
		}
		seen[a.Name] = true
		if a.Bank == nil {
			errs = append(errs, configError(field+"Bank", "is required", nil))
		}
		if a.Weight < 0 || a.Weight > maxWeight {
			errs = append(errs, configError(field+"Weight", fmt.Sprintf("must be in [0, %d]", maxWeight), a.Weight))
		}
		errs = append(errs, a.Policy.validate(field+"Policy.")...)
	}
	return errs
}

// nameRule returns the rule an acquirer's name breaks, or "". names holds
// every acquirer's name, seen those of the acquirers before this one.
func nameRule(name string, seen, names map[string]bool) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > 64 || strings.TrimFunc(name, nameRune) != "":
		return "must be at most 64 letters, digits, '-', '_' or '.'"
	case name == "fx" || name == "log":
		return "must not be \"fx\" or \"log\" (the names of the gateway's other breakers)"
	case seen[name]:
		return "must be unique"
	case names[strings.TrimSuffix(name, "-status")] && strings.HasSuffix(name, "-status"):
		return "must not be another acquirer's name followed by \"-status\" (the name of its status breaker)"
	}
	return ""
}

func nameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// validate checks a BankPolicy whose fields are named prefix+field.
func (p BankPolicy) validate(prefix string) []error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MaxWait", p.MaxWait}, {"Timeout", p.Timeout}, {"MaxRetryAfter", p.MaxRetryAfter}} {
		if d.v < 0 {
			errs = append(errs, configError(prefix+d.name, "must not be negative", d.v))
		}
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"Attempts", p.Attempts}, {"MaxConcurrent", p.MaxConcurrent}} {
		if d.v < 0 {
			errs = append(errs, configError(prefix+d.name, "must not be negative", d.v))
		}
	}
	return append(errs, validateInject(prefix+"Inject", p.Inject)...)
}

// validateInject refuses a nil guard among injected ones.
func validateInject(field string, gs []resilience.Guard) []error {
	var errs []error
	for i, g := range gs {
		if g == nil {
			errs = append(errs, configError(fmt.Sprintf("%s[%d]", field, i), "must not be nil", nil))
		}
	}
	return errs
}

// withDefaults returns p with the defaults documented on its fields.
func (p BankPolicy) withDefaults() BankPolicy {
	p.Attempts = or(p.Attempts, 3)
	p.Timeout = or(p.Timeout, 2*time.Second)
	p.MaxRetryAfter = or(p.MaxRetryAfter, 500*time.Millisecond)
	return p
}
