package grpcx

import (
	"cmp"
	"context"
	"errors"
	"net"
	"time"

	"github.com/benbjohnson/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/ratelimit"
	"github.com/riprap-go/riprap/resilience/timeout"
)

// DefaultRetryAfter is the retry delay a server gives with a refusal whose
// policy cannot say when it will admit again (a full bulkhead).
const DefaultRetryAfter = time.Second

// ServerConfig configures [NewServer]. Its zero value makes interceptors
// that pass every call through.
type ServerConfig struct {
	// RateLimit limits each client, by the key RateKey derives, to its own
	// rate. Nil means no rate limit.
	RateLimit *ratelimit.Keyed
	// RateKey derives a call's key; nil means [ByPeer]. Calls for which it
	// returns "" share one bucket.
	RateKey func(ctx context.Context, fullMethod string) string
	// Guarded says which methods the policies apply to; nil means every
	// method but those of the health service (grpc.health.v1.Health), so
	// that probes are answered however loaded the server is.
	Guarded func(fullMethod string) bool
	// Concurrency bounds the calls and streams being served at once: a
	// *bulkhead.Bulkhead, a *bulkhead.Adaptive (which learns from the
	// handlers' outcomes, judged by Classifier), or any other guard. A
	// stream holds its slot until its handler returns. Nil means none.
	Concurrency resilience.Guard
	// Timeout bounds each unary handler: its context ends that long after
	// the call arrived, or at the client's deadline if that comes first.
	// Zero means none.
	Timeout time.Duration
	// StreamTimeout does the same for stream handlers. Zero means none.
	StreamTimeout time.Duration
	// RetryAfter is the delay a refusal tells the client to wait when the
	// refusing policy does not know; zero means [DefaultRetryAfter].
	RetryAfter time.Duration
	// Classifier judges a handler's error for a Concurrency guard that
	// learns from outcomes; nil means [Classify].
	Classifier resilience.ErrorClassifier
	// Clock times Timeout and StreamTimeout; nil means the real clock.
	Clock clock.Clock
}

// Server holds the server-side policies and makes their interceptors. A
// call passes the rate limit, then the concurrency limit, then the timeout,
// then reaches the handler. A refused call gets ResourceExhausted, with
// the refusing policy and the delay before trying again in its details
// (see [RejectionStatus]) and in the [PushbackKey] trailer, which gRPC's
// own retry and this package's client honour.
//
// A handler's error that is a riprap rejection (the handler's own breaker
// to a dependency refused) becomes Unavailable with the same details and
// trailer, so the client learns when to come back; a context error becomes
// its status (DeadlineExceeded when the Timeout fired).
//
// Build a Server with [NewServer]; the zero Server passes calls through,
// and a nil *Server fails them with Internal. A Server is safe for
// concurrent use.
type Server struct {
	cfg    ServerConfig
	unaryC resilience.Chain
	strmC  resilience.Chain
}

// NewServer returns a server configured by cfg, or a
// [*resilience.ConfigError] for a negative Timeout, StreamTimeout or
// RetryAfter.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.RetryAfter < 0 {
		return nil, &resilience.ConfigError{Component: "grpcx", Field: "RetryAfter", Rule: "must not be negative", Value: cfg.RetryAfter}
	}
	unary, err := serverChain(cfg.Concurrency, "Timeout", cfg.Timeout, cfg.Clock)
	if err != nil {
		return nil, err
	}
	stream, err := serverChain(cfg.Concurrency, "StreamTimeout", cfg.StreamTimeout, cfg.Clock)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, unaryC: unary, strmC: stream}, nil
}

func serverChain(limit resilience.Guard, field string, d time.Duration, clk clock.Clock) (resilience.Chain, error) {
	var guards []resilience.Guard
	if limit != nil {
		guards = append(guards, limit)
	}
	if d < 0 {
		return resilience.Chain{}, &resilience.ConfigError{Component: "grpcx", Field: field, Rule: "must not be negative", Value: d}
	}
	if d > 0 {
		t, err := timeout.New(timeout.Config{Name: "grpc server", Timeout: d, Clock: clk})
		if err != nil {
			return resilience.Chain{}, err
		}
		guards = append(guards, t)
	}
	return resilience.NewChain(guards...), nil
}

// ServerOptions returns the unary and stream interceptors as options for
// grpc.NewServer, chained after interceptors given earlier.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(s.StreamInterceptor()),
	}
}

// UnaryInterceptor returns the interceptor that guards each unary call.
func (s *Server) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if s == nil {
			return nil, errNilServer
		}
		if !s.guarded(info.FullMethod) {
			return handler(ctx, req)
		}
		if err := s.admit(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		var resp any
		var herr error
		ran := false
		err := s.unaryC.Run(ctx, func(hctx context.Context) error {
			ran = true
			resp, herr = handler(hctx, req)
			return s.judge(ctx, herr)
		})
		if !ran {
			return nil, s.refuse(ctx, err)
		}
		return resp, s.handlerError(ctx, herr)
	}
}

// StreamInterceptor returns the interceptor that guards each stream. The
// concurrency slot is held, and StreamTimeout runs, until the handler
// returns.
func (s *Server) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if s == nil {
			return errNilServer
		}
		if !s.guarded(info.FullMethod) {
			return handler(srv, ss)
		}
		ctx := ss.Context()
		if err := s.admit(ctx, info.FullMethod); err != nil {
			return err
		}
		var herr error
		ran := false
		err := s.strmC.Run(ctx, func(hctx context.Context) error {
			ran = true
			if hctx != ctx { // a timeout derived it: the handler must see it
				ss = &serverStream{ServerStream: ss, ctx: hctx}
			}
			herr = handler(srv, ss)
			return s.judge(ctx, herr)
		})
		if !ran {
			return s.refuse(ctx, err)
		}
		return s.handlerError(ctx, herr)
	}
}

// admit takes a token of the call's key; a refusal is the call's answer.
func (s *Server) admit(ctx context.Context, method string) error {
	if s.cfg.RateLimit == nil {
		return nil
	}
	key := ByPeer
	if s.cfg.RateKey != nil {
		key = s.cfg.RateKey
	}
	if err := s.cfg.RateLimit.Admit(key(ctx, method)); err != nil {
		return s.refuse(ctx, err)
	}
	return nil
}

// judge carries the classifier's verdict on a handler's error to a guard
// that learns from outcomes.
func (s *Server) judge(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	classify := s.cfg.Classifier
	if classify == nil {
		classify = Classify
	}
	return &resilience.Judged{Outcome: classify(ctx, err), Err: err}
}

// refuse answers a call the guards did not let reach the handler.
func (s *Server) refuse(ctx context.Context, err error) error {
	if r, ok := resilience.AsRejection(err); ok {
		if r.RetryAfter <= 0 {
			r.RetryAfter = cmp.Or(s.cfg.RetryAfter, DefaultRetryAfter)
		}
		setPushback(ctx, r.RetryAfter)
		return RejectionStatus(codes.ResourceExhausted, r).Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Internal, err.Error())
}

// handlerError passes a handler's error on, turning the errors gRPC would
// report as Unknown into statuses that say what happened.
func (s *Server) handlerError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if d, ok := resilience.RetryAfter(err); ok {
		setPushback(ctx, d)
	}
	if findStatusError(err) != nil {
		return err
	}
	if r, ok := resilience.AsRejection(err); ok {
		return RejectionStatus(codes.Unavailable, r).Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return err
}

// ByPeer is a RateKey giving each client host its own bucket: the IP
// address of the call's peer, without the port. A peer that is not an IP
// address (a Unix socket, an in-memory listener) is keyed by its whole
// address.
func ByPeer(ctx context.Context, _ string) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	a := p.Addr.String()
	if host, _, err := net.SplitHostPort(a); err == nil {
		return host
	}
	return a
}

// guarded applies Guarded, or its default: every method but the health
// service's.
func (s *Server) guarded(fullMethod string) bool {
	if s.cfg.Guarded != nil {
		return s.cfg.Guarded(fullMethod)
	}
	return ByService(fullMethod) != healthpb.Health_ServiceDesc.ServiceName
}

// errNilServer fails the calls through the interceptors of a nil *Server.
var errNilServer = status.Error(codes.Internal, "grpcx: nil *Server")

// serverStream gives a stream handler the context a guard derived.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }
