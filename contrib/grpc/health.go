package grpcx

import (
	"cmp"
	"context"
	"sort"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

// DefaultWatchInterval is how often a Watch stream reads the statuses
// again when nothing told it of a change.
const DefaultWatchInterval = time.Second

// HealthConfig configures [NewHealthServer]. Every field may be left zero.
type HealthConfig struct {
	// Checker provides the health of its targets: each target's name is a
	// service name, Healthy is SERVING, Unhealthy NOT_SERVING, and Unknown
	// (not probed yet) UNKNOWN.
	Checker *health.Checker
	// Breakers provides the state of its breakers: each breaker's name is
	// a service name, SERVING unless the breaker refuses calls (open,
	// forced open, held open). A name that is both a target and a breaker
	// is SERVING only when both say so.
	Breakers *breaker.Registry
	// Services adds service names (the gRPC service a client asks about,
	// "pkg.Service") made of targets and breakers: such a service is
	// SERVING when all of them are. A listed name that is neither a target
	// nor a breaker counts as SERVING, since a client interceptor makes its
	// breakers at their first call: a breaker not made yet has refused
	// nothing. [HealthServer.List] shows which parts exist.
	Services map[string][]string
	// Overall lists the targets and breakers that decide the server's
	// overall health, the empty service name that Kubernetes probes ask
	// about. Nil means the Checker's readiness (every critical target
	// Healthy), or SERVING without a Checker.
	Overall []string
	// WatchInterval is how often a Watch stream reads the statuses again
	// when nothing told it of a change; zero means
	// [DefaultWatchInterval]. A change of a checker's target reaches Watch
	// streams at once (the server follows each target as
	// [health.BindBreaker] lets a breaker follow one); a breaker's reaches
	// them at once when [HealthServer.Listener] is among its listeners,
	// and within WatchInterval otherwise.
	WatchInterval time.Duration
	// Clock times WatchInterval; nil means the real clock.
	Clock clock.Clock
}

// HealthServer is the standard gRPC health service, grpc.health.v1.Health,
// answering from a [health.Checker] and a [breaker.Registry], so that
// Kubernetes gRPC probes, grpcurl and load balancers see what riprap knows.
// Register it with [healthpb.RegisterHealthServer].
//
// Check answers at once; an unknown service name gets NotFound. Watch
// sends the status at once and then every change, until the client goes
// away; an unknown name is SERVICE_UNKNOWN until it appears (a breaker
// made later). List returns every service known.
//
// Build a HealthServer with [NewHealthServer]; the zero HealthServer knows
// only the overall service, SERVING, and a nil *HealthServer answers every
// call with Unavailable. It is safe for concurrent use.
type HealthServer struct {
	healthpb.UnimplementedHealthServer
	cfg HealthConfig

	mu       sync.Mutex    // protects wake and shutdown
	wake     chan struct{} // closed and replaced at every change; nil until needed
	shutdown bool
}

// errNilHealth answers the calls to a nil *HealthServer.
var errNilHealth = status.Error(codes.Unavailable, "grpcx: nil *HealthServer")

// NewHealthServer returns a health server configured by cfg, or a
// [*resilience.ConfigError] for a negative WatchInterval.
func NewHealthServer(cfg HealthConfig) (*HealthServer, error) {
	if cfg.WatchInterval < 0 {
		return nil, &resilience.ConfigError{Component: "grpcx", Field: "WatchInterval", Rule: "must not be negative", Value: cfg.WatchInterval}
	}
	h := &HealthServer{cfg: cfg}
	if cfg.Checker != nil {
		for _, t := range cfg.Checker.Snapshot() {
			if err := health.BindBreaker(cfg.Checker, t.Name, follower{h}, health.BindOptions{}); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// follower hears of every status change of a checker's target, through
// the hook the checker drives breakers with. It never holds anything.
type follower struct{ h *HealthServer }

func (f follower) HoldOpen(string, time.Duration) bool { f.h.Changed(); return false }
func (f follower) Release(string, bool) bool           { f.h.Changed(); return false }

// Listener returns a listener of state changes that wakes the Watch
// streams; put it among the Listeners of the breakers the server reports
// (breaker.Config.Listeners) so that their changes reach the streams at
// once.
func (h *HealthServer) Listener() resilience.Listener {
	return resilience.OnStateChange(func(resilience.Event) { h.Changed() })
}

// Changed tells the Watch streams to read the statuses again now.
func (h *HealthServer) Changed() {
	if h == nil {
		return
	}
	h.mu.Lock()
	if h.wake != nil {
		close(h.wake)
		h.wake = nil // the next watcher to wait makes a new one
	}
	h.mu.Unlock()
}

// waitChan returns the channel the next change closes.
func (h *HealthServer) waitChan() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wake == nil {
		h.wake = make(chan struct{})
	}
	return h.wake
}

// Shutdown makes every service NOT_SERVING, for a server about to stop:
// load balancers and probes stop sending calls before the listener
// closes. [HealthServer.Resume] undoes it.
func (h *HealthServer) Shutdown() { h.setShutdown(true) }

// Resume ends a [HealthServer.Shutdown].
func (h *HealthServer) Resume() { h.setShutdown(false) }

func (h *HealthServer) setShutdown(v bool) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.shutdown = v
	h.mu.Unlock()
	h.Changed()
}

// Check returns the status of the requested service.
func (h *HealthServer) Check(_ context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if h == nil {
		return nil, errNilHealth
	}
	st, ok := h.Status(req.GetService())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "grpcx: unknown service %q", req.GetService())
	}
	return &healthpb.HealthCheckResponse{Status: st}, nil
}

// List returns the status of every service known: the overall one (""),
// the Services, and every target and breaker.
func (h *HealthServer) List(context.Context, *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	if h == nil {
		return nil, errNilHealth
	}
	out := make(map[string]*healthpb.HealthCheckResponse)
	for _, name := range h.names() {
		if st, ok := h.Status(name); ok {
			out[name] = &healthpb.HealthCheckResponse{Status: st}
		}
	}
	return &healthpb.HealthListResponse{Statuses: out}, nil
}

// Watch sends the status of the requested service now and at every change,
// until the client goes away.
func (h *HealthServer) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	if h == nil {
		return errNilHealth
	}
	clk := h.cfg.Clock
	if clk == nil {
		clk = clock.New()
	}
	ticker := clk.Ticker(cmp.Or(h.cfg.WatchInterval, DefaultWatchInterval))
	defer ticker.Stop()
	last := healthpb.HealthCheckResponse_ServingStatus(-1)
	for {
		wake := h.waitChan() // taken before reading, so no change is missed
		st, ok := h.Status(req.GetService())
		if !ok {
			st = healthpb.HealthCheckResponse_SERVICE_UNKNOWN
		}
		if st != last {
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-stream.Context().Done():
			return status.FromContextError(stream.Context().Err()).Err()
		case <-wake:
		case <-ticker.C:
		}
	}
}

// Status returns what Check answers for service, and false for a name
// the server does not know.
func (h *HealthServer) Status(service string) (healthpb.HealthCheckResponse_ServingStatus, bool) {
	if h == nil {
		return healthpb.HealthCheckResponse_UNKNOWN, false
	}
	h.mu.Lock()
	down := h.shutdown
	h.mu.Unlock()
	st, ok := h.status(service)
	if ok && down {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	return st, ok
}

func (h *HealthServer) status(service string) (healthpb.HealthCheckResponse_ServingStatus, bool) {
	if service == "" {
		if h.cfg.Overall != nil {
			return h.combine(h.cfg.Overall), true
		}
		if h.cfg.Checker != nil && !h.cfg.Checker.Ready() {
			return healthpb.HealthCheckResponse_NOT_SERVING, true
		}
		return healthpb.HealthCheckResponse_SERVING, true
	}
	if parts, ok := h.cfg.Services[service]; ok {
		return h.combine(parts), true
	}
	return h.component(service)
}

// combine is the worst status of names: NOT_SERVING over UNKNOWN over
// SERVING.
func (h *HealthServer) combine(names []string) healthpb.HealthCheckResponse_ServingStatus {
	worst := healthpb.HealthCheckResponse_SERVING
	for _, n := range names {
		if st, ok := h.component(n); ok {
			worst = worse(worst, st)
		}
	}
	return worst
}

func worse(a, b healthpb.HealthCheckResponse_ServingStatus) healthpb.HealthCheckResponse_ServingStatus {
	rank := func(s healthpb.HealthCheckResponse_ServingStatus) int {
		switch s {
		case healthpb.HealthCheckResponse_SERVING:
			return 0
		case healthpb.HealthCheckResponse_NOT_SERVING:
			return 2
		}
		return 1
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// component is the status of a target, a breaker, or both of one name.
func (h *HealthServer) component(name string) (healthpb.HealthCheckResponse_ServingStatus, bool) {
	st, found := healthpb.HealthCheckResponse_SERVING, false
	if h.cfg.Checker != nil {
		if t, ok := h.cfg.Checker.Lookup(name); ok {
			found = true
			switch t.Status {
			case health.Unhealthy:
				st = healthpb.HealthCheckResponse_NOT_SERVING
			case health.Unknown:
				st = healthpb.HealthCheckResponse_UNKNOWN
			}
		}
	}
	if h.cfg.Breakers != nil {
		if b, ok := h.cfg.Breakers.Get(name); ok {
			found = true
			switch b.State() {
			case breaker.Open, breaker.ForcedOpen, breaker.HeldOpen:
				st = healthpb.HealthCheckResponse_NOT_SERVING
			}
		}
	}
	return st, found
}

// names lists every service name known, sorted.
func (h *HealthServer) names() []string {
	set := map[string]bool{"": true}
	for n := range h.cfg.Services {
		set[n] = true
	}
	if h.cfg.Checker != nil {
		for _, t := range h.cfg.Checker.Snapshot() {
			set[t.Name] = true
		}
	}
	if h.cfg.Breakers != nil {
		for n := range h.cfg.Breakers.All() {
			set[n] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
