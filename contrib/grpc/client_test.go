package grpcx_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/ratelimit"
)

const service = "grpc.testing.TestService"

var unavailable = status.Error(codes.Unavailable, "backend down")

// newClient builds a Client or fails the test.
func newClient(t testing.TB, cfg grpcx.ClientConfig) *grpcx.Client {
	t.Helper()
	c, err := grpcx.NewClient(cfg)
	require.NoError(t, err)
	return c
}

func newRetry(t testing.TB, clk clock.Clock, attempts int) *backoff.Retry {
	t.Helper()
	r, err := backoff.NewRetry(backoff.RetryConfig{
		MaxAttempts: attempts, Strategy: backoff.Constant(time.Millisecond),
		MaxRetryAfter: 2 * time.Second, Clock: clk,
	})
	require.NoError(t, err)
	return r
}

func TestUnaryTripsOnUnavailable(t *testing.T) {
	f := newFakeServer(step{err: unavailable}, step{err: unavailable}, step{err: unavailable})
	reg := &breaker.Registry{}
	c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 3, OpenWait: time.Minute}})
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), nil, c.DialOptions()...))
	ctx := context.Background()

	for i := range 3 {
		_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
		require.Equal(t, codes.Unavailable, status.Code(err), "call %d", i+1)
		assert.False(t, resilience.IsRejected(err), "call %d reached the server", i+1)
	}
	_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.True(t, resilience.IsRejected(err))
	assert.ErrorIs(t, err, breaker.ErrOpen)
	r, ok := grpcx.RemoteRejection(err)
	require.True(t, ok, "the status details name the policy: %v", err)
	assert.Equal(t, "breaker", r.Policy)
	assert.Equal(t, service, r.Name)
	assert.InDelta(t, time.Minute, r.RetryAfter, float64(time.Second), "RetryInfo carries the open wait")
	assert.Equal(t, int32(3), f.calls.Load(), "the open breaker kept the 4th call from the server")

	br, ok := reg.Get(service)
	require.True(t, ok, "the breaker is named by the service")
	assert.Equal(t, breaker.Open, br.State())
}

func TestUnaryAnswersDoNotTrip(t *testing.T) {
	answers := []codes.Code{codes.InvalidArgument, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.FailedPrecondition, codes.Aborted, codes.Unimplemented}
	var script []step
	for _, c := range answers {
		script = append(script, step{err: status.Error(c, "no")})
	}
	f := newFakeServer(script...)
	reg := &breaker.Registry{}
	c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 1}})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	for _, want := range answers {
		_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
		assert.Equal(t, want, status.Code(err), "the caller gets the server's answer")
	}
	br, _ := reg.Get(service)
	s := br.Snapshot()
	assert.Equal(t, breaker.Closed, s.State)
	assert.Equal(t, uint64(len(answers)), s.Successes, "answers are successes")
	assert.Zero(t, s.Failures)
}

func TestUnaryIgnoresCallerCancel(t *testing.T) {
	f := newFakeServer(step{block: true})
	reg := &breaker.Registry{}
	c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 1}})
	client := testgrpc.NewTestServiceClient(loopback(t, testService(f), nil, c.DialOptions()...))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
		errc <- err
	}()
	waitStarted(t, f)
	cancel()
	err := <-errc
	assert.Equal(t, codes.Canceled, status.Code(err))

	br, _ := reg.Get(service)
	s := br.Snapshot()
	assert.Equal(t, breaker.Closed, s.State, "the caller's cancellation says nothing of the server")
	assert.Equal(t, uint64(1), s.Ignored)
	assert.Zero(t, s.Failures)
}

func TestUnaryAttemptTimeoutIsFailure(t *testing.T) {
	f := newFakeServer(step{block: true})
	reg := &breaker.Registry{}
	c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 1},
		AttemptTimeout: 20 * time.Millisecond})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	br, _ := reg.Get(service)
	assert.Equal(t, breaker.Open, br.State(), "a server that does not answer in time has failed")
}

func TestCallerDeadline(t *testing.T) {
	for _, tc := range []struct {
		name       string
		classifier resilience.ErrorClassifier
		want       breaker.State
	}{
		{"default: a failure", nil, breaker.Open},
		{"IgnoreCallerDeadline: ignored", resilience.ClassifyErrors(grpcx.IgnoreCallerDeadline, grpcx.Classify), breaker.Closed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(step{block: true})
			reg := &breaker.Registry{}
			c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 1},
				Classifier: tc.classifier})
			client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			_, err := client.EmptyCall(ctx, &testgrpc.Empty{})
			assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
			br, _ := reg.Get(service)
			assert.Equal(t, tc.want, br.State())
		})
	}
}

func TestUnaryRetryOnlyRetryableMethods(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retryable func(string) bool
		calls     int32
		code      codes.Code
	}{
		{"nil Retryable retries nothing", nil, 1, codes.Unavailable},
		{"another method is not retried", grpcx.Methods("/grpc.testing.TestService/UnaryCall"), 1, codes.Unavailable},
		{"the method is retried", grpcx.Methods("/grpc.testing.TestService/EmptyCall"), 2, codes.OK},
		{"a whole service is retried", grpcx.Methods(service), 2, codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(step{err: unavailable})
			clk := newInstantClock()
			c := newClient(t, grpcx.ClientConfig{Retry: newRetry(t, clk, 3), Retryable: tc.retryable})
			client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

			_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
			assert.Equal(t, tc.code, status.Code(err))
			assert.Equal(t, tc.calls, f.calls.Load())
		})
	}
}

func TestUnaryRetryAnswersAreFinal(t *testing.T) {
	f := newFakeServer(step{err: status.Error(codes.NotFound, "no such account")})
	c := newClient(t, grpcx.ClientConfig{Retry: newRetry(t, newInstantClock(), 3), Retryable: grpcx.Methods(service)})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
	st, _ := status.FromError(err)
	assert.Equal(t, codes.NotFound, st.Code())
	assert.Equal(t, "no such account", st.Message(), "the caller gets the server's status unchanged")
	assert.Equal(t, int32(1), f.calls.Load(), "an answer is not retried")
}

func TestUnaryRetryHonoursPushback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pushback string
		calls    int32
		waits    []time.Duration
	}{
		{"pushback lengthens the wait", "300", 2, []time.Duration{300 * time.Millisecond}},
		{"capped by MaxRetryAfter", "3600000", 2, []time.Duration{2 * time.Second}},
		{"zero keeps the strategy's delay", "0", 2, []time.Duration{time.Millisecond}},
		{"negative stops the retries", "-1", 1, nil},
		{"garbage stops the retries", "soon", 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(step{err: unavailable, pushback: tc.pushback})
			clk := newInstantClock()
			c := newClient(t, grpcx.ClientConfig{Retry: newRetry(t, clk, 3), Retryable: grpcx.Methods(service)})
			client := testgrpc.NewTestServiceClient(loopback(t, testService(f), nil, c.DialOptions()...))

			_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
			if tc.calls == 1 {
				assert.Equal(t, codes.Unavailable, status.Code(err))
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.calls, f.calls.Load())
			assert.Equal(t, tc.waits, clk.Waits())
		})
	}
}

func TestUnaryRetryStopsAtOpenBreaker(t *testing.T) {
	f := newFakeServer(step{err: unavailable}, step{err: unavailable}, step{err: unavailable})
	reg := &breaker.Registry{}
	c := newClient(t, grpcx.ClientConfig{
		Retry: newRetry(t, newInstantClock(), 5), Retryable: grpcx.Methods(service),
		Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 2, OpenWait: time.Minute},
	})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
	assert.True(t, resilience.IsRejected(err), "the last attempt was refused: %v", err)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, int32(2), f.calls.Load(), "the retry stopped when the breaker opened")
}

func TestBreakerKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(string) string
		want []string
	}{
		{"ByService", grpcx.ByService, []string{service}},
		{"ByMethod", grpcx.ByMethod, []string{"/grpc.testing.TestService/EmptyCall", "/grpc.testing.TestService/UnaryCall"}},
		{"no breaker for a method", func(m string) string {
			if m == "/grpc.testing.TestService/UnaryCall" {
				return ""
			}
			return "empty"
		}, []string{"empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &breaker.Registry{}
			c := newClient(t, grpcx.ClientConfig{Breakers: reg, BreakerKey: tc.key})
			client := testgrpc.NewTestServiceClient(inMemory(t, testService(newFakeServer()), nil, c.DialOptions()...))
			_, err := client.EmptyCall(context.Background(), &testgrpc.Empty{})
			require.NoError(t, err)
			_, err = client.UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
			require.NoError(t, err)
			var names []string
			for _, s := range reg.Snapshots() {
				names = append(names, s.Name)
			}
			assert.Equal(t, tc.want, names)
		})
	}
}

func TestRegisteredBreakerIsUsed(t *testing.T) {
	reg := &breaker.Registry{}
	mine, err := reg.GetOrCreate(service, breaker.Config{ConsecutiveFailures: 7})
	require.NoError(t, err)
	mine.ForceOpen()
	f := newFakeServer()
	c := newClient(t, grpcx.ClientConfig{Breakers: reg, Breaker: breaker.Config{ConsecutiveFailures: 1}})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	assert.ErrorIs(t, err, breaker.ErrOpen, "the registered breaker, of another config, guards the calls")
	assert.Zero(t, f.calls.Load())
}

func TestUnaryRateLimit(t *testing.T) {
	clk := clock.NewMock()
	lim, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Name: "bank", Clock: clk})
	require.NoError(t, err)
	f := newFakeServer()
	c := newClient(t, grpcx.ClientConfig{Limit: lim})
	client := testgrpc.NewTestServiceClient(inMemory(t, testService(f), nil, c.DialOptions()...))

	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	require.NoError(t, err)
	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	r, ok := grpcx.RemoteRejection(err)
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "ratelimit", Name: "bank", RetryAfter: time.Second, Reason: grpcx.ErrRemoteRejection}, r)
	assert.Equal(t, int32(1), f.calls.Load())
}

func TestNewClientRefusesBadConfig(t *testing.T) {
	_, err := grpcx.NewClient(grpcx.ClientConfig{Breakers: &breaker.Registry{}, Breaker: breaker.Config{FailureRate: 2}})
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "FailureRate", ce.Field)

	_, err = grpcx.NewClient(grpcx.ClientConfig{AttemptTimeout: -time.Second})
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Timeout", ce.Field)
}
