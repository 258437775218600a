package grpcx_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/bulkhead"
)

// TestNoGoroutineLeakAfterClose runs unary calls, finished and abandoned
// streams and a health Watch through every interceptor over loopback, then
// closes the connection and stops the server: every goroutine started on
// the way must end.
func TestNoGoroutineLeakAfterClose(t *testing.T) {
	before := goroutines()
	func() {
		reg := &breaker.Registry{}
		c := newClient(t, grpcx.ClientConfig{
			Breakers: reg, Retry: newRetry(t, newInstantClock(), 3), Retryable: grpcx.Methods(service),
			AttemptTimeout: time.Minute,
		})
		bh, err := bulkhead.New(bulkhead.Config{MaxConcurrent: 8})
		require.NoError(t, err)
		srv := newServer(t, grpcx.ServerConfig{Concurrency: bh, Timeout: time.Minute})
		hs, err := grpcx.NewHealthServer(grpcx.HealthConfig{Breakers: reg})
		require.NoError(t, err)

		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		f := newFakeServer(step{err: unavailable}, step{}, step{send: 2}, step{block: true, send: 1})
		gs := grpc.NewServer(srv.ServerOptions()...)
		testgrpc.RegisterTestServiceServer(gs, f)
		healthpb.RegisterHealthServer(gs, hs)
		served := make(chan struct{})
		go func() {
			defer close(served)
			_ = gs.Serve(lis)
		}()
		conn, err := grpc.NewClient(lis.Addr().String(), append(c.DialOptions(),
			grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		client := testgrpc.NewTestServiceClient(conn)
		_, err = client.EmptyCall(ctx, &testgrpc.Empty{}) // retried once
		require.NoError(t, err)
		done, err := client.StreamingOutputCall(ctx, streamRequest("a"))
		require.NoError(t, err)
		_, err = recvAll(done)
		require.NoError(t, err)
		abandoned, err := client.StreamingOutputCall(ctx, streamRequest("b"))
		require.NoError(t, err)
		_, err = abandoned.Recv() // one message, then left open
		require.NoError(t, err)
		watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
		require.NoError(t, err)
		_, err = watch.Recv()
		require.NoError(t, err)

		require.NoError(t, conn.Close())
		gs.Stop()
		<-served
	}()
	// Goroutines end asynchronously after Close and Stop: poll, within a
	// bound. (assert.Eventually would count its own goroutine.)
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for bound := time.Now().Add(10 * time.Second); goroutines() > before && time.Now().Before(bound); {
		<-poll.C
	}
	if !assert.LessOrEqual(t, goroutines(), before, "goroutines left behind") {
		t.Log(stacks())
	}
}

// goroutines counts the program's goroutines as a stack dump lists them:
// runtime.NumGoroutine also counts the runtime's own workers (cleanups),
// which come and go as the runtime pleases.
func goroutines() int { return strings.Count(stacks(), "\ngoroutine ") + 1 }

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
