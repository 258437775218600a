package grpcx_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

// BenchmarkUnary measures a unary call over loopback TCP bare and through
// the client interceptor, so that the interceptor's cost reads as the
// difference between the sub-benchmarks of one run.
func BenchmarkUnary(b *testing.B) {
	retry, err := backoff.NewRetry(backoff.RetryConfig{})
	require.NoError(b, err)
	limiter, err := ratelimit.New(ratelimit.Inf, 1)
	require.NoError(b, err)
	for _, bc := range []struct {
		name string
		cfg  *grpcx.ClientConfig
	}{
		{"bare", nil},
		{"breaker", &grpcx.ClientConfig{Breakers: &breaker.Registry{}}},
		{"breaker+retry", &grpcx.ClientConfig{Breakers: &breaker.Registry{}, Retry: retry, Retryable: grpcx.Methods(service)}},
		{"breaker+retry+limit+timeout", &grpcx.ClientConfig{Breakers: &breaker.Registry{}, Retry: retry,
			Retryable: grpcx.Methods(service), Limit: limiter, AttemptTimeout: time.Minute}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var dial []grpc.DialOption
			if bc.cfg != nil {
				dial = newClient(b, *bc.cfg).DialOptions()
			}
			client := testgrpc.NewTestServiceClient(loopback(b, testService(newFakeServer()), nil, dial...))
			ctx := context.Background()
			req := &testgrpc.Empty{}
			_, err := client.EmptyCall(ctx, req) // connect outside the measurement
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.EmptyCall(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInterceptor measures the unary interceptor alone around an
// invoker that answers at once, so that its cost is not lost in the noise
// of a network round trip.
func BenchmarkInterceptor(b *testing.B) {
	retry, err := backoff.NewRetry(backoff.RetryConfig{})
	require.NoError(b, err)
	limiter, err := ratelimit.New(ratelimit.Inf, 1)
	require.NoError(b, err)
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	for _, bc := range []struct {
		name string
		cfg  *grpcx.ClientConfig
	}{
		{"bare", nil},
		{"classify only", &grpcx.ClientConfig{}},
		{"breaker", &grpcx.ClientConfig{Breakers: &breaker.Registry{}}},
		{"breaker+retry", &grpcx.ClientConfig{Breakers: &breaker.Registry{}, Retry: retry, Retryable: grpcx.Methods(service)}},
		{"breaker+retry+limit+timeout", &grpcx.ClientConfig{Breakers: &breaker.Registry{}, Retry: retry,
			Retryable: grpcx.Methods(service), Limit: limiter, AttemptTimeout: time.Minute}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			call := func(ctx context.Context) error {
				return invoker(ctx, "/grpc.testing.TestService/EmptyCall", nil, nil, nil)
			}
			if bc.cfg != nil {
				unary := newClient(b, *bc.cfg).UnaryInterceptor()
				call = func(ctx context.Context) error {
					return unary(ctx, "/grpc.testing.TestService/EmptyCall", nil, nil, nil, invoker)
				}
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := call(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
