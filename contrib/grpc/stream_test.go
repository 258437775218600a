package grpcx_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

func streamRequest(body string) *testgrpc.StreamingOutputCallRequest {
	return &testgrpc.StreamingOutputCallRequest{Payload: &testgrpc.Payload{Body: []byte(body)}}
}

// recvAll reads a stream to its end and returns the bodies and the final
// error (nil for a clean end).
func recvAll(stream interface {
	Recv() (*testgrpc.StreamingOutputCallResponse, error)
}) ([]string, error) {
	var got []string
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, string(m.GetPayload().GetBody()))
	}
}

// streamClient makes a client with a retry for every method and a breaker
// tripping on the first failure.
func streamClient(t *testing.T, reg *breaker.Registry) *grpcx.Client {
	return newClient(t, grpcx.ClientConfig{
		Retry: newRetry(t, newInstantClock(), 3), Retryable: grpcx.Methods(service),
		Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 5},
	})
}

func TestStreamNoRetryAfterMessage(t *testing.T) {
	f := newFakeServer(step{send: 1, err: unavailable})
	reg := &breaker.Registry{}
	c := streamClient(t, reg)
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), nil, c.DialOptions()...))

	stream, err := client.StreamingOutputCall(context.Background(), streamRequest("a"))
	require.NoError(t, err)
	got, err := recvAll(stream)
	assert.Equal(t, []string{"a"}, got)
	assert.Equal(t, codes.Unavailable, status.Code(err), "the failure after a message reaches the caller")
	_, again := stream.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(again), "the end is repeated")
	assert.Equal(t, int32(1), f.calls.Load(), "a stream that received a message is never replayed")

	br, _ := reg.Get(service)
	s := br.Snapshot()
	assert.Equal(t, uint64(1), s.Successes, "the establishment was a success")
	assert.Equal(t, uint64(1), s.Failures, "the final status was a failure")
}

func TestStreamRetriedBeforeFirstMessage(t *testing.T) {
	f := newFakeServer(step{err: unavailable}, step{send: 2})
	reg := &breaker.Registry{}
	c := streamClient(t, reg)
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), nil, c.DialOptions()...))

	stream, err := client.StreamingOutputCall(context.Background(), streamRequest("req"))
	require.NoError(t, err)
	got, err := recvAll(stream)
	require.NoError(t, err)
	assert.Equal(t, []string{"req", "req"}, got)
	assert.Equal(t, int32(2), f.calls.Load())
	assert.Equal(t, []string{"req", "req"}, f.streamBodies(), "the request was sent again")

	br, _ := reg.Get(service)
	s := br.Snapshot()
	assert.Equal(t, uint64(1), s.Failures, "the failed attempt")
	assert.Equal(t, uint64(1), s.Successes, "the attempt that answered")
}

func TestStreamEndNotRetriedWhenReadAgain(t *testing.T) {
	// The retry has attempts left, but the caller already saw the end.
	f := newFakeServer(step{err: unavailable}, step{err: unavailable}, step{send: 1})
	c := newClient(t, grpcx.ClientConfig{Retry: newRetry(t, newInstantClock(), 2), Retryable: grpcx.Methods(service)})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	stream, err := client.StreamingOutputCall(context.Background(), streamRequest("a"))
	require.NoError(t, err)
	_, err = stream.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err))
	_, err = stream.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, int32(2), f.calls.Load(), "two attempts, then nothing more")
}

func TestStreamNotRetryableMethod(t *testing.T) {
	f := newFakeServer(step{err: unavailable}, step{send: 2})
	c := newClient(t, grpcx.ClientConfig{Retry: newRetry(t, newInstantClock(), 3)})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	stream, err := client.StreamingOutputCall(context.Background(), streamRequest("req"))
	require.NoError(t, err)
	_, err = recvAll(stream)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, int32(1), f.calls.Load())
}

func TestStreamOpenSendSideNotReplayed(t *testing.T) {
	f := newFakeServer(step{err: unavailable}, step{send: 1})
	c := streamClient(t, &breaker.Registry{})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	stream, err := client.FullDuplexCall(context.Background())
	require.NoError(t, err)
	_ = stream.Send(streamRequest("half a conversation")) // may fail: the server is gone
	_, err = stream.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "the request is not whole: no replay")
	assert.Equal(t, int32(1), f.calls.Load())
}

func TestStreamBidiReplayedAfterCloseSend(t *testing.T) {
	// The first attempt fails once the client has sent everything, so
	// every send succeeds and the request is whole.
	f := newFakeServer(step{err: unavailable, drain: true}, step{send: 2})
	c := streamClient(t, &breaker.Registry{})
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), nil, c.DialOptions()...))

	stream, err := client.FullDuplexCall(context.Background())
	require.NoError(t, err)
	for _, body := range []string{"x", "y"} {
		require.NoError(t, stream.Send(streamRequest(body)))
	}
	require.NoError(t, stream.CloseSend())
	got, err := recvAll(stream)
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, got, "both messages were sent again, in order")
	assert.Equal(t, int32(2), f.calls.Load())
}

func TestStreamRejectedByOpenBreaker(t *testing.T) {
	reg := &breaker.Registry{}
	br, err := reg.GetOrCreate(service, breaker.Config{})
	require.NoError(t, err)
	br.ForceOpen()
	f := newFakeServer()
	c := streamClient(t, reg)
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	_, err = client.StreamingOutputCall(context.Background(), streamRequest("a"))
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.True(t, resilience.IsRejected(err))
	r, ok := grpcx.RemoteRejection(err)
	require.True(t, ok)
	assert.Equal(t, "breaker", r.Policy)
	assert.Zero(t, f.calls.Load())
}

func TestStreamCallerCancelIgnored(t *testing.T) {
	f := newFakeServer(step{block: true})
	reg := &breaker.Registry{}
	c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 1}})
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), nil, c.DialOptions()...))

	ctx, cancel := context.WithCancel(context.Background())
	_, err := client.StreamingOutputCall(ctx, streamRequest("a"))
	require.NoError(t, err)
	waitStarted(t, f)
	cancel() // and never read the stream again
	br, _ := reg.Get(service)
	require.Eventually(t, func() bool { return br.Snapshot().Ignored == 1 }, 10*time.Second, time.Millisecond,
		"the pending establishment is settled as ignored")
	assert.Equal(t, breaker.Closed, br.State())
	assert.Zero(t, br.Snapshot().Failures)
}

func TestStreamFailureBeforeMessageTrips(t *testing.T) {
	f := newFakeServer(step{err: unavailable})
	reg := &breaker.Registry{}
	c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 1}})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	stream, err := client.StreamingOutputCall(context.Background(), streamRequest("a"))
	require.NoError(t, err)
	_, err = recvAll(stream)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	br, _ := reg.Get(service)
	assert.Equal(t, breaker.Open, br.State())
	_, err = stream.Recv()
	assert.Equal(t, codes.Unavailable, status.Code(err), "reading again repeats the end")
	assert.Equal(t, uint64(1), br.Snapshot().Failures, "and judges nothing twice")
}

func TestStreamClientStreaming(t *testing.T) {
	f := newFakeServer()
	reg := &breaker.Registry{}
	c := streamClient(t, reg)
	client := testgrpc.NewTestServiceClient(inMemory(t, testgrpcInput(f), nil, c.DialOptions()...))

	stream, err := client.StreamingInputCall(context.Background())
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, stream.Send(&testgrpc.StreamingInputCallRequest{Payload: &testgrpc.Payload{Body: []byte("ab")}}))
	}
	resp, err := stream.CloseAndRecv()
	require.NoError(t, err)
	assert.Equal(t, int32(6), resp.GetAggregatedPayloadSize())
	br, _ := reg.Get(service)
	assert.Equal(t, uint64(1), br.Snapshot().Successes)
}

// inputServer adds StreamingInputCall to the fake server.
type inputServer struct{ *fakeServer }

func (s inputServer) StreamingInputCall(stream testgrpc.TestService_StreamingInputCallServer) error {
	var n int32
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testgrpc.StreamingInputCallResponse{AggregatedPayloadSize: n})
		}
		if err != nil {
			return err
		}
		n += int32(len(m.GetPayload().GetBody()))
	}
}

func testgrpcInput(f *fakeServer) func(*grpcServer) {
	return func(s *grpcServer) { testgrpc.RegisterTestServiceServer(s, inputServer{f}) }
}
