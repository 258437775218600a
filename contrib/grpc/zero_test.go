package grpcx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
)

// A nil part fails every call with a clear status; a zero one passes calls
// through. Neither panics.
func TestNilAndZeroValues(t *testing.T) {
	var nilClient *grpcx.Client
	var nilServer *grpcx.Server
	var nilHealth *grpcx.HealthServer
	zeroHealth := &grpcx.HealthServer{}

	t.Run("nil parts fail calls", func(t *testing.T) {
		f := newFakeServer()
		conn := inMemory(t, func(s *grpc.Server) {
			testgrpc.RegisterTestServiceServer(s, f)
		}, nil, grpc.WithChainUnaryInterceptor(nilClient.UnaryInterceptor()),
			grpc.WithChainStreamInterceptor(nilClient.StreamInterceptor()))
		client := testgrpc.NewTestServiceClient(conn)
		_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
		assert.Equal(t, codes.Internal, status.Code(err))
		_, err = client.StreamingOutputCall(context.Background(), streamRequest("a"))
		assert.Equal(t, codes.Internal, status.Code(err))
		assert.Zero(t, f.calls.Load())

		conn = inMemory(t, testService(f), []grpc.ServerOption{
			grpc.ChainUnaryInterceptor(nilServer.UnaryInterceptor()),
			grpc.ChainStreamInterceptor(nilServer.StreamInterceptor())})
		client = testgrpc.NewTestServiceClient(conn)
		_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
		assert.Equal(t, codes.Internal, status.Code(err))
		stream, err := client.StreamingOutputCall(context.Background(), streamRequest("a"))
		require.NoError(t, err)
		_, err = recvAll(stream)
		assert.Equal(t, codes.Internal, status.Code(err))
		assert.Zero(t, f.calls.Load())

		_, err = nilHealth.Check(context.Background(), &healthpb.HealthCheckRequest{})
		assert.Equal(t, codes.Unavailable, status.Code(err))
		nilHealth.Changed()
		nilHealth.Shutdown()
	})

	t.Run("zero parts pass calls", func(t *testing.T) {
		var c grpcx.Client
		var s grpcx.Server
		f := newFakeServer(step{err: unavailable})
		conn := inMemory(t, func(gs *grpc.Server) {
			testgrpc.RegisterTestServiceServer(gs, f)
			healthpb.RegisterHealthServer(gs, zeroHealth)
		}, s.ServerOptions(), c.DialOptions()...)
		client := testgrpc.NewTestServiceClient(conn)
		_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
		assert.Equal(t, codes.Unavailable, status.Code(err))
		stream, err := client.StreamingOutputCall(context.Background(), streamRequest("a"))
		require.NoError(t, err)
		got, err := recvAll(stream)
		require.NoError(t, err)
		assert.Empty(t, got)

		next := watch(t, healthpb.NewHealthClient(conn), "")
		assert.Equal(t, serving, next())
		zeroHealth.Shutdown()
		assert.Equal(t, notServing, next())
	})
}
