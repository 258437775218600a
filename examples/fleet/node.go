package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	riprapredis "github.com/riprap-go/riprap/contrib/redis"
	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// nodeConfig is what one gateway process of the fleet is told: where its
// dependencies are, and how the fleet shares state. It is plain data that
// travels as flags (see main) or as JSON (to a test's child process).
type nodeConfig struct {
	// Instance names the process in the store's claims and in the fleet's
	// breaker messages; unique in the fleet.
	Instance string `json:"instance"`
	// Listen is the loopback address to serve on; "127.0.0.1:0" picks a
	// free port.
	Listen string `json:"listen"`
	// Bank, FX and Log are the base URLs of the three dependencies.
	Bank string `json:"bank"`
	FX   string `json:"fx"`
	Log  string `json:"log"`
	// Postgres is the DSN of the shared ledger, Schema the schema in it.
	Postgres string `json:"postgres"`
	Schema   string `json:"schema"`
	// Redis is the address of the shared breaker state and rate limit;
	// Prefix names the fleet in it: only processes sharing a Prefix share
	// state.
	Redis  string `json:"redis"`
	Prefix string `json:"prefix"`
	// Rate and Burst are the bank's limit on transfers, for the whole
	// fleet; Fleet is the number of processes, so that each can fall back
	// to its share (Rate/Fleet) while Redis is down.
	Rate  int `json:"rate"`
	Burst int `json:"burst"`
	Fleet int `json:"fleet"`
	// ClaimTTL bounds how long a killed process's payments stay claimed
	// before the survivors take them over.
	ClaimTTL time.Duration `json:"claim_ttl"`

	// Deliberately broken fleets, for showing that the checks can fail:
	// Unshared gives each process a breaker of its own (no Redis),
	// LocalLimit gives each the whole Rate locally, MemoryStore gives each
	// a ledger of its own in memory.
	Unshared    bool `json:"unshared,omitempty"`
	LocalLimit  bool `json:"local_limit,omitempty"`
	MemoryStore bool `json:"memory_store,omitempty"`
}

// Timings of the bank's breaker, the same in every process. The opener
// probes first: peers hold ReleaseDelay past the published deadline, so a
// dead bank sees about one probe per opening from the whole fleet.
const (
	tripAfter    = 3 // consecutive failed attempts
	openWait     = 250 * time.Millisecond
	maxOpenWait  = time.Second
	releaseDelay = 500 * time.Millisecond
)

// node is one running gateway process.
type node struct {
	cfg     nodeConfig
	gw      *gateway.Gateway
	srv     *http.Server
	ln      net.Listener
	closers []func() error // run in reverse order by close

	shared  *riprapredis.Breaker // nil when Unshared
	limiter *riprapredis.Limiter // nil with LocalLimit
}

// PathFleet serves, as JSON, the node's view of the fleet: the snapshots
// of its shared breaker and of the fleet's rate limit.
const PathFleet = "/v1/fleet"

// fleetView is what PathFleet answers.
type fleetView struct {
	Breaker *riprapredis.BreakerSnapshot `json:"breaker,omitempty"`
	Limiter *riprapredis.LimiterSnapshot `json:"limiter,omitempty"`
}

func (n *node) serveFleet(w http.ResponseWriter, _ *http.Request) {
	var v fleetView
	if n.shared != nil {
		s := n.shared.Snapshot()
		v.Breaker = &s
	}
	if n.limiter != nil {
		s := n.limiter.Snapshot()
		v.Limiter = &s
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// startNode opens the shared store, joins the fleet's breaker and limit in
// Redis, builds the gateway and starts serving it. Events of the bank's
// breaker and of the fleet connection go to emit.
func startNode(ctx context.Context, cfg nodeConfig, emit func(resilience.Event)) (*node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := &node{cfg: cfg}
	started := false
	defer func() {
		if !started { // undo what was opened before the failure
			n.close()
		}
	}()
	var rdb *redis.Client
	if cfg.Redis != "" {
		rdb = redis.NewClient(&redis.Options{Addr: cfg.Redis, ContextTimeoutEnabled: true,
			DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		n.closers = append(n.closers, rdb.Close)
	}
	retryWait, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: 50 * time.Millisecond,
		Max: 200 * time.Millisecond, Jitter: backoff.FullJitter})
	if err != nil {
		return nil, err
	}
	reg := &breaker.Registry{}
	bc, err := n.bankBreaker(ctx, rdb, reg, emit)
	if err != nil {
		return nil, err
	}
	bank, err := n.bankClient(rdb)
	if err != nil {
		return nil, err
	}
	st, err := n.openStore(ctx)
	if err != nil {
		return nil, err
	}
	hc := httpapi.ClientConfig{HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	fx, err1 := httpapi.NewFXClient(cfg.FX, hc)
	lg, err2 := httpapi.NewLogClient(cfg.Log, hc)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	n.gw, err = gateway.New(gateway.Config{Bank: bank, FX: fx, Log: lg, Store: st, Instance: cfg.Instance,
		ClaimTTL: cfg.ClaimTTL, Registry: reg,
		// Short timeouts, so that a claim may be short too (the gateway
		// requires ClaimTTL to cover a payment's every attempt) and a
		// killed process's payments are taken over soon.
		BankPolicy: gateway.BankPolicy{Breaker: bc, Timeout: 500 * time.Millisecond, Backoff: retryWait,
			MaxRetryAfter: 100 * time.Millisecond},
		FXPolicy:  gateway.FXPolicy{Timeout: 250 * time.Millisecond},
		LogPolicy: gateway.LogPolicy{ReplayInterval: 50 * time.Millisecond},
		// Health probes would hold each breaker on their own; off, so that
		// what keeps a process off a dead bank is its breaker and the
		// fleet's, which is what this program shows.
		Health:            gateway.HealthPolicy{Disabled: true},
		ReconcileInterval: 50 * time.Millisecond, ReconcileMaxInterval: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, func() error { n.gw.Close(); return nil })
	if n.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", n.gw.Handler())
	mux.HandleFunc("GET "+PathFleet, n.serveFleet)
	n.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	started = true
	return n, nil
}

// URL is the base URL the node serves on.
func (n *node) URL() string { return "http://" + n.ln.Addr().String() }

// serve serves until the server is shut down.
func (n *node) serve() error {
	if err := n.srv.Serve(n.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// close stops serving (letting requests in flight finish for a moment),
// then closes the gateway, the fleet state and the store.
func (n *node) close() {
	if n.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = n.srv.Shutdown(ctx)
		cancel()
	} else if n.ln != nil {
		_ = n.ln.Close()
	}
	for i := len(n.closers) - 1; i >= 0; i-- {
		_ = n.closers[i]()
	}
}

// bankBreaker builds the bank's breaker, shares it through Redis unless
// the fleet is Unshared, and registers it under "bank" so that the
// gateway uses it. It returns the configuration the gateway must ask for,
// which matches the registered breaker's.
func (n *node) bankBreaker(ctx context.Context, rdb *redis.Client, reg *breaker.Registry, emit func(resilience.Event)) (breaker.Config, error) {
	grow, err := backoff.NewExponential(backoff.ExponentialConfig{Initial: openWait, Multiplier: 2, Max: maxOpenWait})
	if err != nil {
		return breaker.Config{}, err
	}
	bc := breaker.Config{Name: "bank", ConsecutiveFailures: tripAfter, OpenWait: openWait,
		OpenBackoff: grow, MaxOpenWait: maxOpenWait, Classifier: httpapi.Outcome}
	local := bc
	local.Listeners = resilience.Listeners{resilience.OnStateChange(emit)}
	if n.cfg.Unshared {
		b, err := breaker.New(local)
		if err != nil {
			return bc, err
		}
		return bc, reg.Register(b)
	}
	fb, err := riprapredis.NewBreaker(riprapredis.BreakerConfig{Client: rdb, Breaker: local,
		Instance: n.cfg.Instance, Prefix: n.cfg.Prefix, ReleaseDelay: releaseDelay,
		RepairInterval: time.Second, Timeout: 250 * time.Millisecond,
		Listeners: resilience.Listeners{resilience.OnStateChange(emit)}})
	if err != nil {
		return bc, err
	}
	n.shared = fb
	n.closers = append(n.closers, fb.Close)
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := fb.Start(startCtx); err != nil {
		// Redis unreachable: the breaker protects this process alone and
		// keeps trying in the background. Said, not hidden.
		fmt.Fprintf(os.Stderr, "fleet: %s: Redis not reached at start (%v): local breaker only until it is\n", n.cfg.Instance, err)
	}
	return bc, reg.Register(fb.Local())
}

// bankClient is the bank's HTTP client behind the fleet's rate limit.
func (n *node) bankClient(rdb *redis.Client) (*limitedBank, error) {
	hc := httpapi.ClientConfig{HTTPClient: &http.Client{Transport: signed{instance: n.cfg.Instance,
		next: &http.Transport{MaxIdleConnsPerHost: 32}}}}
	client, err := httpapi.NewBankClient(n.cfg.Bank, hc)
	if err != nil {
		return nil, err
	}
	rate := ratelimit.PerSecond(n.cfg.Rate)
	if n.cfg.LocalLimit {
		lim, err := ratelimit.New(rate, n.cfg.Burst)
		return &limitedBank{Bank: client, limit: lim}, err
	}
	share, err := ratelimit.New(ratelimit.Per(n.cfg.Rate, time.Duration(n.cfg.Fleet)*time.Second), max(1, n.cfg.Burst/n.cfg.Fleet))
	if err != nil {
		return nil, err
	}
	lim, err := riprapredis.NewLimiter(riprapredis.LimiterConfig{Client: rdb, Name: "bank-transfers",
		Prefix: n.cfg.Prefix, Rate: rate, Burst: n.cfg.Burst, Local: share,
		// Longer than the default 100ms: on a loaded machine a slow round
		// trip would send decisions to the local share for a second, and
		// the fleet could then admit its limit plus the local shares.
		Timeout: 250 * time.Millisecond})
	n.limiter = lim
	return &limitedBank{Bank: client, limit: lim}, err
}

// openStore opens the shared ledger, or for a MemoryStore fleet returns
// nil (the gateway then keeps a ledger of its own in memory).
func (n *node) openStore(ctx context.Context) (store.Store, error) {
	if n.cfg.MemoryStore {
		return nil, nil
	}
	st, err := pgstore.Open(ctx, pgstore.Config{DSN: n.cfg.Postgres, Schema: n.cfg.Schema, MaxConns: 8})
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, st.Close)
	return st, nil
}

func (c nodeConfig) validate() error {
	var errs []error
	bad := func(field, rule string, v any) {
		errs = append(errs, &resilience.ConfigError{Component: "fleet", Field: field, Rule: rule, Value: v})
	}
	for _, f := range []struct{ name, v string }{{"Instance", c.Instance}, {"Listen", c.Listen},
		{"Bank", c.Bank}, {"FX", c.FX}, {"Log", c.Log}} {
		if f.v == "" {
			bad(f.name, "is required", f.v)
		}
	}
	if c.Postgres == "" && !c.MemoryStore {
		bad("Postgres", "is required (or MemoryStore)", c.Postgres)
	}
	if c.Redis == "" && !(c.Unshared && c.LocalLimit) {
		bad("Redis", "is required (or Unshared and LocalLimit)", c.Redis)
	}
	if c.Rate < 1 {
		bad("Rate", "must be at least 1", c.Rate)
	}
	if c.Burst < 1 {
		bad("Burst", "must be at least 1", c.Burst)
	}
	if c.Fleet < 1 {
		bad("Fleet", "must be at least 1", c.Fleet)
	}
	if c.ClaimTTL < 0 {
		bad("ClaimTTL", "must not be negative", c.ClaimTTL)
	}
	return errors.Join(errs...)
}
