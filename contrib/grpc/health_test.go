package grpcx_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

const (
	serving    = healthpb.HealthCheckResponse_SERVING
	notServing = healthpb.HealthCheckResponse_NOT_SERVING
	unknown    = healthpb.HealthCheckResponse_UNKNOWN
)

// switchProbe is a probe that passes while up is set.
type switchProbe struct{ up atomic.Bool }

func (p *switchProbe) probe(context.Context) error {
	if p.up.Load() {
		return nil
	}
	return errors.New("down")
}

// healthFixture is a checker with a critical target "bank" and a target
// "fx", and a registry with the breakers "bank" and "ledger".
type healthFixture struct {
	checker  *health.Checker
	bank     *switchProbe
	breakers *breaker.Registry
	hs       *grpcx.HealthServer
	clock    *clock.Mock
	client   healthpb.HealthClient
}

func newHealthFixture(t *testing.T, services map[string][]string) *healthFixture {
	t.Helper()
	fx := &healthFixture{bank: &switchProbe{}, breakers: &breaker.Registry{}, clock: clock.NewMock()}
	var err error
	fx.checker, err = health.New(health.Config{Interval: time.Minute, FailuresToUnhealthy: 1, SuccessesToHealthy: 1},
		health.Target{Name: "bank", Critical: true, Probe: fx.bank.probe},
		health.Target{Name: "fx", Probe: func(context.Context) error { return nil }})
	require.NoError(t, err)
	fx.hs, err = grpcx.NewHealthServer(grpcx.HealthConfig{Checker: fx.checker, Breakers: fx.breakers,
		Services: services, WatchInterval: time.Hour, Clock: fx.clock})
	require.NoError(t, err)
	for _, name := range []string{"bank", "ledger"} {
		_, err := fx.breakers.GetOrCreate(name, breaker.Config{Listeners: resilience.Listeners{fx.hs.Listener()}})
		require.NoError(t, err)
	}
	conn := inMemory(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, fx.hs) }, nil)
	fx.client = healthpb.NewHealthClient(conn)
	return fx
}

func (fx *healthFixture) probe(t *testing.T, up bool) {
	t.Helper()
	fx.bank.up.Store(up)
	_, err := fx.checker.Probe(context.Background(), "bank")
	require.NoError(t, err)
}

func (fx *healthFixture) breaker(name string) *breaker.Breaker {
	b, _ := fx.breakers.Get(name)
	return b
}

func (fx *healthFixture) check(t *testing.T, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := fx.client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	require.NoError(t, err, "service %q", service)
	return resp.GetStatus()
}

func TestHealthCheck(t *testing.T) {
	fx := newHealthFixture(t, map[string][]string{
		"payments.v1.Gateway": {"bank", "ledger"},
		"later.v1.Service":    {"not-made-yet"},
	})
	assert.Equal(t, notServing, fx.check(t, ""), "not ready before the critical target is probed")
	assert.Equal(t, unknown, fx.check(t, "bank"), "a target not probed yet")
	assert.Equal(t, unknown, fx.check(t, "payments.v1.Gateway"))

	fx.probe(t, true)
	_, err := fx.checker.Probe(context.Background(), "fx")
	require.NoError(t, err)
	for _, name := range []string{"", "bank", "fx", "ledger", "payments.v1.Gateway"} {
		assert.Equal(t, serving, fx.check(t, name), "service %q", name)
	}
	assert.Equal(t, serving, fx.check(t, "later.v1.Service"), "a breaker not made yet refused nothing")

	fx.breaker("ledger").ForceOpen()
	assert.Equal(t, notServing, fx.check(t, "ledger"))
	assert.Equal(t, notServing, fx.check(t, "payments.v1.Gateway"))
	assert.Equal(t, serving, fx.check(t, ""), "the overall health is the checker's readiness")

	fx.breaker("bank").ForceOpen()
	assert.Equal(t, notServing, fx.check(t, "bank"), "target healthy, breaker open: not serving")

	_, err = fx.client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "nope"})
	assert.Equal(t, codes.NotFound, status.Code(err))
}

func TestHealthOverall(t *testing.T) {
	breakers := &breaker.Registry{}
	ledger, err := breakers.GetOrCreate("ledger", breaker.Config{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		overall []string
		want    healthpb.HealthCheckResponse_ServingStatus
	}{
		{"without a checker: serving", nil, serving},
		{"from the listed parts", []string{"ledger"}, notServing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, err := grpcx.NewHealthServer(grpcx.HealthConfig{Breakers: breakers, Overall: tc.overall})
			require.NoError(t, err)
			ledger.ForceOpen()
			st, ok := hs.Status("")
			assert.True(t, ok)
			assert.Equal(t, tc.want, st)
		})
	}
}

// watch opens a Watch stream and returns a function reading its next
// status.
func watch(t *testing.T, client healthpb.HealthClient, service string) func() healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	// A bound, not a timing: a change that never comes fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
	require.NoError(t, err)
	return func() healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		resp, err := stream.Recv()
		require.NoError(t, err)
		return resp.GetStatus()
	}
}

func TestHealthWatchStreamsTargetChange(t *testing.T) {
	fx := newHealthFixture(t, nil)
	next := watch(t, fx.client, "bank")
	assert.Equal(t, unknown, next())
	fx.probe(t, false)
	assert.Equal(t, notServing, next(), "the failed probe reaches the stream at once")
	fx.probe(t, true)
	assert.Equal(t, serving, next())
}

func TestHealthWatchStreamsBreakerChange(t *testing.T) {
	fx := newHealthFixture(t, map[string][]string{"payments.v1.Gateway": {"ledger"}})
	next := watch(t, fx.client, "payments.v1.Gateway")
	assert.Equal(t, serving, next())
	fx.breaker("ledger").ForceOpen()
	assert.Equal(t, notServing, next(), "the breaker's listener woke the stream")
	fx.breaker("ledger").Reset()
	assert.Equal(t, serving, next())
}

func TestHealthWatchPollsWithoutListener(t *testing.T) {
	breakers := &breaker.Registry{}
	b, err := breakers.GetOrCreate("ledger", breaker.Config{})
	require.NoError(t, err)
	clk := clock.NewMock()
	hs, err := grpcx.NewHealthServer(grpcx.HealthConfig{Breakers: breakers, WatchInterval: time.Second, Clock: clk})
	require.NoError(t, err)
	conn := inMemory(t, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) }, nil)

	next := watch(t, healthpb.NewHealthClient(conn), "ledger")
	assert.Equal(t, serving, next())
	b.ForceOpen() // no listener: only the next tick tells
	clk.Add(time.Second)
	assert.Equal(t, notServing, next())
}

func TestHealthWatchUnknownService(t *testing.T) {
	fx := newHealthFixture(t, nil)
	next := watch(t, fx.client, "audit")
	assert.Equal(t, healthpb.HealthCheckResponse_SERVICE_UNKNOWN, next())
	_, err := fx.breakers.GetOrCreate("audit", breaker.Config{})
	require.NoError(t, err)
	fx.hs.Changed()
	assert.Equal(t, serving, next(), "a service made later appears on the stream")
}

func TestHealthShutdown(t *testing.T) {
	fx := newHealthFixture(t, nil)
	fx.probe(t, true)
	next := watch(t, fx.client, "")
	assert.Equal(t, serving, next())
	fx.hs.Shutdown()
	assert.Equal(t, notServing, next())
	assert.Equal(t, notServing, fx.check(t, "fx"), "every service")
	fx.hs.Resume()
	assert.Equal(t, serving, next())
}

func TestHealthList(t *testing.T) {
	fx := newHealthFixture(t, map[string][]string{"payments.v1.Gateway": {"bank"}})
	fx.probe(t, false)
	resp, err := fx.client.List(context.Background(), &healthpb.HealthListRequest{})
	require.NoError(t, err)
	got := map[string]healthpb.HealthCheckResponse_ServingStatus{}
	for name, st := range resp.GetStatuses() {
		got[name] = st.GetStatus()
	}
	assert.Equal(t, map[string]healthpb.HealthCheckResponse_ServingStatus{
		"": notServing, "bank": notServing, "fx": unknown, "ledger": serving, "payments.v1.Gateway": notServing,
	}, got)
}

func TestNewHealthServerRefusesBadConfig(t *testing.T) {
	_, err := grpcx.NewHealthServer(grpcx.HealthConfig{WatchInterval: -time.Second})
	var ce *resilience.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "WatchInterval", ce.Field)
}
