// Command example runs a gRPC server and its client on loopback, both
// guarded by riprap, through an outage and a burst, and exits:
//
//   - the client's breaker opens when the server goes down and refuses calls
//     at once, with the retry delay in the status details;
//   - the health service reports the breaker as NOT_SERVING meanwhile;
//   - once the server is back, the breaker's probe closes it;
//   - calls faster than the server's per-client rate limit are answered
//     with ResourceExhausted and a pushback, which the client's retry
//     honours for the method that is safe to repeat.
//
// Run it with `go run ./example` from contrib/grpc.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

const service = "grpc.testing.TestService"

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// bank is the server's service: it fails every call while down is set.
type bank struct {
	testgrpc.UnimplementedTestServiceServer
	down atomic.Bool
}

// UnaryCall plays a transfer: not safe to repeat.
func (b *bank) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if b.down.Load() {
		return nil, status.Error(codes.Unavailable, "bank: database unreachable")
	}
	return &testgrpc.SimpleResponse{}, nil
}

// EmptyCall plays a status lookup: it changes nothing, so it is retried.
func (b *bank) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

// Breaker names by method: a transfer failing says little about lookups.
const (
	transfers = "bank.transfers"
	lookups   = "bank.lookups"
)

func breakerKey(method string) string {
	switch method {
	case "/" + service + "/UnaryCall":
		return transfers
	case "/" + service + "/EmptyCall":
		return lookups
	}
	return grpcx.ByService(method)
}

// demo is the running server and client.
type demo struct {
	w       io.Writer
	bank    *bank
	client  testgrpc.TestServiceClient
	health  healthpb.HealthClient
	breaker *breaker.Breaker
	retries atomic.Int32
	waited  atomic.Int64 // nanoseconds spent waiting before retries
}

func run(w io.Writer) error {
	d := &demo{w: w, bank: &bank{}}
	breakers := &breaker.Registry{}
	hs, err := grpcx.NewHealthServer(grpcx.HealthConfig{Breakers: breakers,
		Services: map[string][]string{service: {transfers, lookups}}})
	if err != nil {
		return err
	}
	stop, addr, err := serve(d.bank, hs)
	if err != nil {
		return err
	}
	defer stop()
	conn, err := d.dial(addr, breakers, hs)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	d.client, d.health = testgrpc.NewTestServiceClient(conn), healthpb.NewHealthClient(conn)

	d.transfers("healthy server", 3)
	d.breaker, _ = breakers.Get(transfers)
	d.bank.down.Store(true)
	d.transfers("server down", 5)
	d.check()
	d.bank.down.Store(false)
	time.Sleep(d.breaker.Snapshot().UntilHalfOpen) // the open wait; a real client would just keep calling
	d.transfers("server back", 2)
	d.check()
	d.lookups(30)
	return nil
}

// serve starts the bank and the health service on a loopback port, behind
// a per-client rate limit and a concurrency limit.
func serve(b *bank, hs *grpcx.HealthServer) (stop func(), addr string, err error) {
	perClient, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.PerSecond(200), Burst: 10, Name: "per-client"})
	if err != nil {
		return nil, "", err
	}
	inFlight, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 64, Name: "handlers"})
	if err != nil {
		return nil, "", err
	}
	guards, err := grpcx.NewServer(grpcx.ServerConfig{RateLimit: perClient, Concurrency: inFlight, Timeout: 2 * time.Second})
	if err != nil {
		return nil, "", err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	s := grpc.NewServer(guards.ServerOptions()...)
	testgrpc.RegisterTestServiceServer(s, b)
	healthpb.RegisterHealthServer(s, hs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	return func() { s.GracefulStop(); <-done }, lis.Addr().String(), nil
}

// dial connects a client with a breaker per kind of call, retries of the
// lookups and an attempt timeout. The breakers wake the health service's
// Watch streams when they change.
func (d *demo) dial(addr string, breakers *breaker.Registry, hs *grpcx.HealthServer) (*grpc.ClientConn, error) {
	retry, err := backoff.NewRetry(backoff.RetryConfig{MaxAttempts: 4, Strategy: backoff.Constant(time.Millisecond),
		Listeners: resilience.Listeners{resilience.OnKinds(func(e resilience.Event) {
			d.retries.Add(1)
			d.waited.Add(int64(e.Delay))
		}, resilience.EventRetry)}})
	if err != nil {
		return nil, err
	}
	client, err := grpcx.NewClient(grpcx.ClientConfig{
		Breakers: breakers, BreakerKey: breakerKey,
		Breaker: breaker.Config{ConsecutiveFailures: 3, OpenWait: 200 * time.Millisecond,
			Listeners: resilience.Listeners{hs.Listener()}},
		Retry: retry, Retryable: grpcx.Methods("/" + service + "/EmptyCall"),
		AttemptTimeout: time.Second,
	})
	if err != nil {
		return nil, err
	}
	opts := append(client.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	return grpc.NewClient(addr, opts...)
}

// transfers makes n transfers and says how each ended.
func (d *demo) transfers(phase string, n int) {
	fmt.Fprintf(d.w, "-- %s\n", phase)
	for i := 1; i <= n; i++ {
		_, err := d.client.UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
		switch r, rejected := grpcx.RemoteRejection(err); {
		case err == nil:
			fmt.Fprintf(d.w, "call %d: OK\n", i)
		case rejected:
			fmt.Fprintf(d.w, "call %d: %v, not sent: refused by %s %q, retry within %v\n",
				i, status.Code(err), r.Policy, r.Name, r.RetryAfter.Round(time.Millisecond))
		default:
			fmt.Fprintf(d.w, "call %d: %v (%s)\n", i, status.Code(err), status.Convert(err).Message())
		}
	}
	fmt.Fprintf(d.w, "breaker: %v\n", d.breakerState())
}

func (d *demo) breakerState() breaker.State {
	if d.breaker == nil {
		return breaker.Closed
	}
	return d.breaker.State()
}

// check asks the health service what a Kubernetes probe would see.
func (d *demo) check() {
	resp, err := d.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		fmt.Fprintf(d.w, "health: %v\n", err)
		return
	}
	fmt.Fprintf(d.w, "health of %s: %v\n", service, resp.GetStatus())
}

// lookups makes n lookups in a row against the server's rate limit of
// 200/s with bursts of 10: the refused attempts carry a pushback that the
// retry waits out before trying again.
func (d *demo) lookups(n int) {
	fmt.Fprintf(d.w, "-- %d lookups in a row against a limit of 200/s, burst 10\n", n)
	ok := 0
	for range n {
		if _, err := d.client.EmptyCall(context.Background(), &testgrpc.Empty{}); err == nil {
			ok++
		} else {
			fmt.Fprintf(d.w, "lookup: %v\n", err)
		}
	}
	retries := d.retries.Load()
	fmt.Fprintf(d.w, "OK: %d of %d; %d attempts refused with a pushback and retried", ok, n, retries)
	if retries > 0 {
		fmt.Fprintf(d.w, " after %v on average", (time.Duration(d.waited.Load()) / time.Duration(retries)).Round(time.Millisecond))
	}
	fmt.Fprintln(d.w)
}
