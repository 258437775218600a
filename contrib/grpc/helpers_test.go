package grpcx_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
)

// step scripts one call of the fake server.
type step struct {
	err      error  // the status the handler returns; nil answers
	pushback string // the grpc-retry-pushback-ms trailer, when set
	block    bool   // wait for the call's context to end, then return its error
	send     int    // streams: messages sent before err
	drain    bool   // bidi streams: read to the client's CloseSend before err
}

// fakeServer is grpc.testing.TestService playing a script: each call takes
// the next step, and answers when the script is empty.
type fakeServer struct {
	testgrpc.UnimplementedTestServiceServer

	mu     sync.Mutex // protects script and bodies
	script []step
	bodies []string // payload bodies of stream requests, in order

	calls   atomic.Int32
	started chan struct{} // a blocking handler has started
}

func newFakeServer(script ...step) *fakeServer {
	return &fakeServer{script: script, started: make(chan struct{}, 16)}
}

func (f *fakeServer) next() step {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) == 0 {
		return step{}
	}
	s := f.script[0]
	f.script = f.script[1:]
	return s
}

func (f *fakeServer) play(ctx context.Context, s step) error {
	if s.pushback != "" {
		_ = grpc.SetTrailer(ctx, metadata.Pairs("grpc-retry-pushback-ms", s.pushback))
	}
	if s.block {
		f.started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	return s.err
}

func (f *fakeServer) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	if err := f.play(ctx, f.next()); err != nil {
		return nil, err
	}
	return &testgrpc.Empty{}, nil
}

func (f *fakeServer) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if err := f.play(ctx, f.next()); err != nil {
		return nil, err
	}
	return &testgrpc.SimpleResponse{Payload: req.GetPayload()}, nil
}

func (f *fakeServer) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	s := f.next()
	f.mu.Lock()
	f.bodies = append(f.bodies, string(req.GetPayload().GetBody()))
	f.mu.Unlock()
	for range s.send {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: req.GetPayload()}); err != nil {
			return err
		}
	}
	return f.play(stream.Context(), s)
}

func (f *fakeServer) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	s := f.next()
	for range s.send {
		req, err := stream.Recv()
		if err != nil {
			return err
		}
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: req.GetPayload()}); err != nil {
			return err
		}
	}
	for s.drain {
		if _, err := stream.Recv(); err != nil {
			break
		}
	}
	return f.play(stream.Context(), s)
}

func (f *fakeServer) streamBodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// serve runs a gRPC server on lis until the test ends.
func serve(t testing.TB, lis net.Listener, register func(*grpc.Server), opts ...grpc.ServerOption) {
	t.Helper()
	s := grpc.NewServer(opts...)
	register(s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
}

// loopback starts a server on a real TCP port of 127.0.0.1 and returns a
// connection to it.
func loopback(t testing.TB, register func(*grpc.Server), server []grpc.ServerOption, dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	serve(t, lis, register, server...)
	return connect(t, lis.Addr().String(), dial...)
}

// inMemory starts a server on a bufconn listener and returns a connection
// to it, for tests where the network is not the point.
func inMemory(t testing.TB, register func(*grpc.Server), server []grpc.ServerOption, dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	serve(t, lis, register, server...)
	dial = append(dial, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	}))
	return connect(t, "passthrough:///bufnet", dial...)
}

func connect(t testing.TB, target string, dial ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient(target, dial...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func testService(f *fakeServer) func(*grpc.Server) {
	return func(s *grpc.Server) { testgrpc.RegisterTestServiceServer(s, f) }
}

// instantClock is a mock clock whose timers fire at once, recording the
// durations asked for: a retry's waits become a list to assert on.
type instantClock struct {
	*clock.Mock
	mu    sync.Mutex // protects waits
	waits []time.Duration
}

func newInstantClock() *instantClock { return &instantClock{Mock: clock.NewMock()} }

func (c *instantClock) Timer(d time.Duration) *clock.Timer {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return c.Mock.Timer(0)
}

func (c *instantClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// waitStarted waits for a blocking handler to start.
func waitStarted(t testing.TB, f *fakeServer) {
	t.Helper()
	select {
	case <-f.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never started")
	}
}

type grpcServer = grpc.Server
