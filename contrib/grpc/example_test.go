package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/benbjohnson/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// inProcess serves register's services in memory and returns a connection
// and a function that closes both ends.
func inProcess(register func(*grpc.Server), server []grpc.ServerOption, dial ...grpc.DialOption) (*grpc.ClientConn, func()) {
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(server...)
	register(s)
	go func() { _ = s.Serve(lis) }()
	dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	conn, err := grpc.NewClient("passthrough:///bufnet", dial...)
	if err != nil {
		panic(err)
	}
	return conn, func() { _ = conn.Close(); s.Stop() }
}

// down is a TestService whose every call fails as a server that is down.
type down struct {
	testgrpc.UnimplementedTestServiceServer
}

func (down) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return nil, status.Error(codes.Unavailable, "connection refused")
}

// The client's breaker opens after two failures; the third call is refused
// without reaching the server, with Unavailable and, in its details, the
// policy that refused and when to try again.
func ExampleClient() {
	client, err := grpcx.NewClient(grpcx.ClientConfig{
		Breakers: &breaker.Registry{},
		Breaker:  breaker.Config{ConsecutiveFailures: 2, OpenWait: 30 * time.Second, Clock: clock.NewMock()},
	})
	if err != nil {
		panic(err)
	}
	conn, stop := inProcess(func(s *grpc.Server) { testgrpc.RegisterTestServiceServer(s, down{}) }, nil,
		client.DialOptions()...)
	defer stop()

	svc := testgrpc.NewTestServiceClient(conn)
	for i := 1; i <= 3; i++ {
		_, err := svc.EmptyCall(context.Background(), &testgrpc.Empty{})
		fmt.Printf("call %d: %v, rejected: %t\n", i, status.Code(err), resilience.IsRejected(err))
		if r, ok := grpcx.RemoteRejection(err); ok {
			fmt.Printf("refused by %s %q, retry in %v\n", r.Policy, r.Name, r.RetryAfter)
		}
	}
	// Output:
	// call 1: Unavailable, rejected: false
	// call 2: Unavailable, rejected: false
	// call 3: Unavailable, rejected: true
	// refused by breaker "grpc.testing.TestService", retry in 30s
}

// up is a TestService that answers every call.
type up struct {
	testgrpc.UnimplementedTestServiceServer
}

func (up) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

// The server limits each client to one call a minute and tells the one
// that calls too soon when to come back, in the status details and in the
// pushback trailer that gRPC's own retry reads.
func ExampleServer() {
	perClient, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Minute), Clock: clock.NewMock()})
	if err != nil {
		panic(err)
	}
	server, err := grpcx.NewServer(grpcx.ServerConfig{RateLimit: perClient})
	if err != nil {
		panic(err)
	}
	conn, stop := inProcess(func(s *grpc.Server) { testgrpc.RegisterTestServiceServer(s, up{}) }, server.ServerOptions())
	defer stop()

	svc := testgrpc.NewTestServiceClient(conn)
	for range 2 {
		var trailer metadata.MD
		_, err := svc.EmptyCall(context.Background(), &testgrpc.Empty{}, grpc.Trailer(&trailer))
		r, _ := grpcx.RemoteRejection(err)
		fmt.Println(status.Code(err), r.RetryAfter, trailer.Get(grpcx.PushbackKey))
	}
	// Output:
	// OK 0s []
	// ResourceExhausted 1m0s [60000]
}

// The checker's targets are services of the standard health service: a
// Watch stream hears of a change as soon as a probe makes it.
func ExampleHealthServer() {
	bankUp := true
	checker, err := health.New(health.Config{Interval: time.Minute, FailuresToUnhealthy: 1},
		health.Target{Name: "bank", Critical: true, Probe: func(context.Context) error {
			if !bankUp {
				return errors.New("bank: connection refused")
			}
			return nil
		}})
	if err != nil {
		panic(err)
	}
	hs, err := grpcx.NewHealthServer(grpcx.HealthConfig{Checker: checker})
	if err != nil {
		panic(err)
	}
	conn, stop := inProcess(func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) }, nil)
	defer stop()
	probes := healthpb.NewHealthClient(conn)
	ctx := context.Background()

	_, _ = checker.Probe(ctx, "bank")
	resp, _ := probes.Check(ctx, &healthpb.HealthCheckRequest{Service: ""})
	fmt.Println("overall:", resp.GetStatus())

	watch, _ := probes.Watch(ctx, &healthpb.HealthCheckRequest{Service: "bank"})
	first, _ := watch.Recv()
	fmt.Println("bank:", first.GetStatus())
	bankUp = false
	_, _ = checker.Probe(ctx, "bank")
	next, _ := watch.Recv()
	fmt.Println("bank:", next.GetStatus())
	// Output:
	// overall: SERVING
	// bank: SERVING
	// bank: NOT_SERVING
}

// Status codes that mean the server failed count against it; answers do
// not; the caller's own cancellation says nothing.
func ExampleClassify() {
	ctx, cancel := context.WithCancel(context.Background())
	for _, c := range []codes.Code{codes.Unavailable, codes.ResourceExhausted, codes.NotFound, codes.InvalidArgument} {
		fmt.Println(c, grpcx.Classify(ctx, status.Error(c, "")))
	}
	cancel()
	fmt.Println("Canceled by the caller", grpcx.Classify(ctx, status.Error(codes.Canceled, "")))
	// Output:
	// Unavailable failure
	// ResourceExhausted failure
	// NotFound success
	// InvalidArgument success
	// Canceled by the caller ignored
}

// Retry only what is safe to repeat: here the status lookup, never the
// transfer.
func ExampleMethods() {
	retryable := grpcx.Methods("/bank.v1.Bank/GetStatus", "fx.v1.Quotes")
	for _, m := range []string{"/bank.v1.Bank/GetStatus", "/bank.v1.Bank/Transfer", "/fx.v1.Quotes/Latest"} {
		fmt.Println(m, retryable(m))
	}
	// Output:
	// /bank.v1.Bank/GetStatus true
	// /bank.v1.Bank/Transfer false
	// /fx.v1.Quotes/Latest true
}
