package dst

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// World is one simulated world: the traffic, the faults of each
// dependency over time, the gateway's crashes and its configuration. It is
// plain data; its JSON form (durations as Go duration strings) is what a
// failing test prints and what [ReadWorld] reads back to replay it. Run
// plays it from Seed, so the same World gives the same run, bit for bit.
// The zero World is refused by [World.Validate] (it has no duration and no
// load).
type World struct {
	// Seed derives every random draw of the run: the fault injectors, the
	// log's own faults, the payments and the jitter of the gateway's
	// backoffs.
	Seed uint64 `json:"seed"`
	// Duration is how long traffic lasts; every fault window lies within
	// it. Then every dependency heals, the clients finish and the gateway
	// drains.
	Duration Duration `json:"duration"`
	Load     Load     `json:"load"`
	// Client is how the gateway's HTTP clients behave.
	Client Client `json:"client"`
	// Bank, FX and Log are the faults of each simulated dependency.
	Bank Faults `json:"bank"`
	// Bank2, when set, makes a two-bank world: a second simulated bank
	// with these faults, and the gateway given two acquirers, "bank" then
	// "bank2", on the same policy (see gateway.Config.Acquirers); a
	// payment fails over to bank2 only when bank provably never saw it.
	// Nil: one bank, gateway.Config.Bank.
	Bank2 *Faults `json:"bank2,omitempty"`
	FX    Faults  `json:"fx"`
	Log   Faults  `json:"log"`
	// Crashes kill the gateway at the given offsets: every in-memory
	// structure and request in flight is lost, the store is kept, and a
	// new gateway with the same Instance starts on it after Downtime.
	Crashes []Crash `json:"crashes,omitempty"`
	// Gateway is the gateway's configuration; zero fields mean its
	// defaults.
	Gateway Config `json:"gateway"`
}

// The shapes of a [Load].
const (
	Steady = "steady" // Rate payments per second throughout
	Bursts = "bursts" // Rate, and Peak for Length every Every
	Ramp   = "ramp"   // from Rate to Peak, linearly
)

// Load is the traffic of a world. It is plain data; the zero Load is
// refused (it has no shape and no rate).
type Load struct {
	Shape  string   `json:"shape"`
	Rate   int      `json:"rate"`                 // payments per second
	Peak   int      `json:"peak,omitempty"`       // bursts and ramps
	Every  Duration `json:"every,omitzero"`       // bursts: one starts every Every
	Length Duration `json:"length,omitzero"`      // bursts: each lasts Length
	Cross  int      `json:"cross_pct"`            // share of payments converted USD → EUR (they need FX)
	Broke  int      `json:"broke_pct"`            // share paid from empty accounts (the bank declines them)
	Reused int      `json:"reused_pct,omitempty"` // share reusing an earlier payment's key for another payment
}

// Client is how the gateway's clients behave. It is plain data; the zero
// Client waits for every answer and never retries.
type Client struct {
	// Timeout is how long a client waits for an answer before giving up
	// (cancelling its request); zero waits for ever.
	Timeout Duration `json:"timeout,omitzero"`
	// Retries is how often a client sends the same payment again (same
	// idempotency key) after a rejection or no answer, RetryWait apart
	// (or the answer's Retry-After, when longer), while traffic lasts.
	Retries   int      `json:"retries"`
	RetryWait Duration `json:"retry_wait"`
}

// The kinds of a [Window].
const (
	Outage   = "outage"   // refuses every request at once (503 with a Retry-After)
	Hang     = "hang"     // accepts requests and never answers in time
	Slowdown = "slowdown" // adds Extra to every request: in time or not, see the call timeout
	Errors   = "errors"   // refuses ErrorBP of the requests (503)
	Flap     = "flap"     // down for Period, up for Period, … (outages)
)

// Faults are the faults of one dependency: background noise for the whole
// traffic and scheduled windows. It is plain data; the zero Faults
// injects nothing.
type Faults struct {
	ErrorBP     int  `json:"error_bp,omitempty"`      // injected 503s, in basis points
	LostReplyBP int  `json:"lost_reply_bp,omitempty"` // processed, then the reply lost
	CloseOnLost bool `json:"close_on_lost,omitempty"` // a lost reply closes the connection instead of a 502
	// Every request waits Latency plus a uniform draw in [0, Jitter].
	Latency Duration `json:"latency,omitzero"`
	Jitter  Duration `json:"jitter,omitzero"`
	// The log's own faults, entry by entry and whole batches.
	AppendErrorBP int      `json:"append_error_bp,omitempty"`
	BatchErrorBP  int      `json:"batch_error_bp,omitempty"`
	Windows       []Window `json:"windows,omitempty"`
}

// Window is one scheduled fault, from Start (inclusive) to End
// (exclusive), as offsets from the start of the world. It is plain data;
// the zero Window is refused (it has no kind).
type Window struct {
	Kind    string   `json:"kind"`
	Start   Duration `json:"start"`
	End     Duration `json:"end"`
	Extra   Duration `json:"extra,omitzero"`     // slowdown
	ErrorBP int      `json:"error_bp,omitempty"` // errors
	Period  Duration `json:"period,omitzero"`    // flap
}

// Crash is one kill of the gateway. It is plain data; the zero Crash kills
// the gateway at the start and restarts it at once.
type Crash struct {
	At       Duration `json:"at"`
	Downtime Duration `json:"downtime"`
}

// Config is the gateway's configuration as a world draws it; a zero field
// means the gateway's default (see gateway.Config), and MaxOutbox the
// store's. It is plain data; the zero Config is every default.
type Config struct {
	ClaimTTL Duration `json:"claim_ttl,omitzero"`

	BankTimeout       Duration `json:"bank_timeout,omitzero"`
	BankAttempts      int      `json:"bank_attempts,omitempty"`
	BankMaxRetryAfter Duration `json:"bank_max_retry_after,omitzero"`
	BankRate          int      `json:"bank_rate,omitempty"` // transfers per second; 0: no limit
	BankBurst         int      `json:"bank_burst,omitempty"`
	BankMaxWait       Duration `json:"bank_max_wait,omitzero"`
	BankBreaker       Breaker  `json:"bank_breaker"`
	StatusBreaker     Breaker  `json:"status_breaker"`

	FXTimeout      Duration `json:"fx_timeout,omitzero"`
	FXMaxStaleness Duration `json:"fx_max_staleness,omitzero"`
	FXBreaker      Breaker  `json:"fx_breaker"`

	LogTimeout        Duration `json:"log_timeout,omitzero"`
	LogBatchSize      int      `json:"log_batch_size,omitempty"`
	LogMaxInFlight    int      `json:"log_max_in_flight,omitempty"`
	LogReplayInterval Duration `json:"log_replay_interval,omitzero"`
	LogBreaker        Breaker  `json:"log_breaker"`

	HealthDisabled          bool     `json:"health_disabled,omitempty"`
	HealthInterval          Duration `json:"health_interval,omitzero"`
	HealthUnhealthyInterval Duration `json:"health_unhealthy_interval,omitzero"`
	HealthTimeout           Duration `json:"health_timeout,omitzero"`
	HealthFailures          int      `json:"health_failures,omitempty"`
	HealthSuccesses         int      `json:"health_successes,omitempty"`
	CloseOnHealthy          bool     `json:"close_on_healthy,omitempty"`

	ReconcileInterval    Duration `json:"reconcile_interval,omitzero"`
	ReconcileMaxInterval Duration `json:"reconcile_max_interval,omitzero"`

	MaxOutbox int `json:"max_outbox,omitempty"`

	// BankWeights, in a two-bank world, are the acquirers' weights (see
	// gateway.Acquirer.Weight): empty leaves bank first for every
	// payment; two weights share the first tries between the banks.
	BankWeights []int `json:"bank_weights,omitempty"`
}

// Breaker is a breaker's configuration as a world draws it; zero fields
// mean the gateway's defaults. It is plain data; the zero Breaker is the
// gateway's default breaker.
type Breaker struct {
	ConsecutiveFailures int      `json:"consecutive_failures,omitempty"`
	FailureRate         float64  `json:"failure_rate,omitempty"`
	WindowSize          int      `json:"window_size,omitempty"`
	MinimumCalls        int      `json:"minimum_calls,omitempty"`
	OpenWait            Duration `json:"open_wait,omitzero"`
	MaxOpenWait         Duration `json:"max_open_wait,omitzero"`
	MaxProbes           int      `json:"max_probes,omitempty"`
	SuccessesToClose    int      `json:"successes_to_close,omitempty"`
}

// Duration is a time.Duration written and read as a Go duration string
// ("2.5s"), so that a world reads like the drill's scenario files. The
// zero value is no time.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the Go duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("dst: want a duration such as \"2.5s\", got %q", b)
	}
	*d = Duration(v)
	return nil
}

// JSON returns the world as indented JSON.
func (w World) JSON() string {
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil { // plain data: cannot happen; say so rather than panic
		return fmt.Sprintf("{\"error\": %q}", err.Error())
	}
	return string(b)
}

// ReadWorld reads a world written by [World.JSON], refusing unknown fields
// and a world [World.Validate] refuses.
func ReadWorld(data []byte) (World, error) {
	var w World
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return World{}, fmt.Errorf("dst: reading a world: %w", err)
	}
	return w, w.Validate()
}
