package grpcx_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func newServer(t testing.TB, cfg grpcx.ServerConfig) *grpcx.Server {
	t.Helper()
	s, err := grpcx.NewServer(cfg)
	require.NoError(t, err)
	return s
}

// retryDelay returns the RetryInfo delay in err's status details.
func retryDelay(t testing.TB, err error) time.Duration {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("no RetryInfo in %v", err)
	return 0
}

func TestServerRateLimit(t *testing.T) {
	clk := clock.NewMock()
	keyed, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Minute), Name: "per-client", Clock: clk})
	require.NoError(t, err)
	srv := newServer(t, grpcx.ServerConfig{RateLimit: keyed})
	f := newFakeServer()
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), srv.ServerOptions()))

	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	require.NoError(t, err)
	var trailer metadata.MD
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{}, grpc.Trailer(&trailer))
	assert.Equal(t, codes.ResourceExhausted, status.Code(err))
	assert.Equal(t, time.Minute, retryDelay(t, err))
	assert.Equal(t, []string{"60000"}, trailer.Get(grpcx.PushbackKey))
	r, ok := grpcx.RemoteRejection(err)
	require.True(t, ok)
	assert.Equal(t, "ratelimit", r.Policy)
	assert.Equal(t, "per-client", r.Name)
	assert.Equal(t, int32(1), f.calls.Load(), "the refused call never reached the handler")
	assert.False(t, keyed.Allow("127.0.0.1"), "keyed by the peer's address, whose token is spent")
	assert.True(t, keyed.Allow("127.0.0.2"))
}

func TestServerRateKeyByMethod(t *testing.T) {
	keyed, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Hour), Clock: clock.NewMock()})
	require.NoError(t, err)
	srv := newServer(t, grpcx.ServerConfig{RateLimit: keyed, RateKey: func(_ context.Context, m string) string { return m }})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(newFakeServer()), srv.ServerOptions()))

	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	require.NoError(t, err)
	_, err = client.UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
	require.NoError(t, err, "each method has its own bucket")
	_, err = client.UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
	assert.Equal(t, codes.ResourceExhausted, status.Code(err))
}

func TestServerConcurrencyLimit(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, Name: "handlers"})
	require.NoError(t, err)
	srv := newServer(t, grpcx.ServerConfig{Concurrency: bh, RetryAfter: 250 * time.Millisecond})
	f := newFakeServer(step{block: true})
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), srv.ServerOptions()))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
		done <- err
	}()
	waitStarted(t, f)
	var trailer metadata.MD
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{}, grpc.Trailer(&trailer))
	assert.Equal(t, codes.ResourceExhausted, status.Code(err))
	assert.Equal(t, 250*time.Millisecond, retryDelay(t, err), "the bulkhead knows no delay: the configured one")
	assert.Equal(t, []string{"250"}, trailer.Get(grpcx.PushbackKey))
	r, ok := grpcx.RemoteRejection(err)
	require.True(t, ok)
	assert.Equal(t, "bulkhead", r.Policy)

	cancel()
	assert.Equal(t, codes.Canceled, status.Code(<-done))
	require.Eventually(t, func() bool { return bh.Snapshot().InFlight == 0 }, 10*time.Second, time.Millisecond,
		"the handler returns after the client went away")
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	assert.NoError(t, err, "the slot was freed")
}

func TestServerStreamHoldsSlot(t *testing.T) {
	bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	require.NoError(t, err)
	srv := newServer(t, grpcx.ServerConfig{Concurrency: bh})
	f := newFakeServer(step{block: true, send: 1})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), srv.ServerOptions()))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := client.StreamingOutputCall(ctx, streamRequest("a"))
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err)
	waitStarted(t, f)
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "the open stream holds the only slot")
}

func TestServerTimeout(t *testing.T) {
	clk := clock.NewMock()
	srv := newServer(t, grpcx.ServerConfig{Timeout: time.Second, StreamTimeout: time.Second, Clock: clk})
	f := newFakeServer(step{block: true}, step{block: true})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), srv.ServerOptions()))

	t.Run("unary", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
			done <- err
		}()
		waitStarted(t, f)
		clk.Add(time.Second)
		assert.Equal(t, codes.DeadlineExceeded, status.Code(<-done))
	})
	t.Run("stream", func(t *testing.T) {
		stream, err := client.StreamingOutputCall(context.Background(), streamRequest("a"))
		require.NoError(t, err)
		waitStarted(t, f)
		clk.Add(time.Second)
		_, err = recvAll(stream)
		assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	})
}

// handlerError is a TestService whose handler fails with a fixed error.
type handlerError struct {
	testgrpc.UnimplementedTestServiceServer
	err error
}

func (h handlerError) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return nil, h.err
}

func TestServerHandlerRejectionIsUnavailable(t *testing.T) {
	rej := resilience.Reject("breaker", "ledger", breaker.ErrOpen, 3*time.Second)
	srv := newServer(t, grpcx.ServerConfig{})
	conn := inMemory(t, func(s *grpc.Server) { testgrpc.RegisterTestServiceServer(s, handlerError{err: rej}) }, srv.ServerOptions())

	var trailer metadata.MD
	_, err := testgrpc.NewTestServiceClient(conn).EmptyCall(context.Background(), &testgrpc.Empty{}, grpc.Trailer(&trailer))
	assert.Equal(t, codes.Unavailable, status.Code(err), "the handler's dependency refused: not this server's load")
	assert.Equal(t, 3*time.Second, retryDelay(t, err))
	assert.Equal(t, []string{"3000"}, trailer.Get(grpcx.PushbackKey))
	r, ok := grpcx.RemoteRejection(err)
	require.True(t, ok)
	assert.Equal(t, "ledger", r.Name)
}

func TestServerHandlerContextErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{context.Canceled, codes.Canceled},
		{status.Error(codes.NotFound, "x"), codes.NotFound},
	} {
		srv := newServer(t, grpcx.ServerConfig{})
		conn := inMemory(t, func(s *grpc.Server) { testgrpc.RegisterTestServiceServer(s, handlerError{err: tc.err}) }, srv.ServerOptions())
		_, err := testgrpc.NewTestServiceClient(conn).EmptyCall(context.Background(), &testgrpc.Empty{})
		assert.Equal(t, tc.want, status.Code(err), "handler error %v", tc.err)
	}
}

func TestClientHonoursServerPushback(t *testing.T) {
	keyed, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(400 * time.Millisecond), Clock: clock.NewMock()})
	require.NoError(t, err)
	srv := newServer(t, grpcx.ServerConfig{RateLimit: keyed})
	clk := newInstantClock()
	c := newClient(t, grpcx.ClientConfig{Retry: newRetry(t, clk, 2), Retryable: grpcx.Methods(service)})
	client := testgrpc.NewTestServiceClient(loopback(t, testService(newFakeServer()), srv.ServerOptions(), c.DialOptions()...))

	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	require.NoError(t, err)
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "the server's mock clock never refills the bucket")
	assert.Equal(t, []time.Duration{400 * time.Millisecond}, clk.Waits(), "the client waited as the server asked")
}

func TestNewServerRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg   grpcx.ServerConfig
		field string
	}{
		{grpcx.ServerConfig{RetryAfter: -1}, "RetryAfter"},
		{grpcx.ServerConfig{Timeout: -1}, "Timeout"},
		{grpcx.ServerConfig{StreamTimeout: -1}, "StreamTimeout"},
	} {
		_, err := grpcx.NewServer(tc.cfg)
		var ce *resilience.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, tc.field, ce.Field)
		assert.Equal(t, "must not be negative", ce.Rule)
	}
}

func TestServerLeavesHealthAlone(t *testing.T) {
	keyed, err := ratelimit.NewKeyed(ratelimit.KeyedConfig{Rate: ratelimit.Every(time.Hour), Clock: clock.NewMock()})
	require.NoError(t, err)
	srv := newServer(t, grpcx.ServerConfig{RateLimit: keyed})
	hs, err := grpcx.NewHealthServer(grpcx.HealthConfig{})
	require.NoError(t, err)
	conn := inMemory(t, func(s *grpc.Server) {
		testgrpc.RegisterTestServiceServer(s, newFakeServer())
		healthpb.RegisterHealthServer(s, hs)
	}, srv.ServerOptions())

	client := testgrpc.NewTestServiceClient(conn)
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	require.NoError(t, err)
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "the client's bucket is empty")
	for range 3 {
		resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
		require.NoError(t, err, "probes are not rate limited")
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	}
}
