package grpcx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	grpcx "github.com/riprap-go/riprap/contrib/grpc"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

func TestClassify(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	st := func(c codes.Code) error { return status.Error(c, c.String()) }

	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want resilience.Outcome
	}{
		{"nil", live, nil, resilience.Success},
		{"unavailable", live, st(codes.Unavailable), resilience.Failure},
		{"deadline of an attempt", live, st(codes.DeadlineExceeded), resilience.Failure},
		{"caller's deadline in flight", expired, st(codes.DeadlineExceeded), resilience.Failure},
		{"resource exhausted", live, st(codes.ResourceExhausted), resilience.Failure},
		{"internal", live, st(codes.Internal), resilience.Failure},
		{"unknown", live, st(codes.Unknown), resilience.Failure},
		{"data loss", live, st(codes.DataLoss), resilience.Failure},
		{"invalid argument", live, st(codes.InvalidArgument), resilience.Success},
		{"not found", live, st(codes.NotFound), resilience.Success},
		{"already exists", live, st(codes.AlreadyExists), resilience.Success},
		{"permission denied", live, st(codes.PermissionDenied), resilience.Success},
		{"failed precondition", live, st(codes.FailedPrecondition), resilience.Success},
		{"unauthenticated", live, st(codes.Unauthenticated), resilience.Success},
		{"canceled by the caller", cancelled, st(codes.Canceled), resilience.Ignored},
		{"canceled by someone else", live, st(codes.Canceled), resilience.Success},
		{"unavailable after the caller cancelled", cancelled, st(codes.Unavailable), resilience.Failure},
		{"a code from the future", live, st(codes.Code(42)), resilience.Failure},
		{"wrapped status", live, fmt.Errorf("bank: %w", st(codes.NotFound)), resilience.Success},
		{"local rejection", live, resilience.Reject("breaker", "bank", breaker.ErrOpen, 0), resilience.Ignored},
		{"not a status", live, errors.New("codec"), resilience.Failure},
		{"judged", live, &resilience.Judged{Outcome: resilience.Ignored, Err: st(codes.Internal)}, resilience.Ignored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, grpcx.Classify(tc.ctx, tc.err), "got %v", grpcx.Classify(tc.ctx, tc.err))
		})
	}
}

func TestClassifyCodes(t *testing.T) {
	c := grpcx.ClassifyCodes(codes.NotFound)
	ctx := context.Background()
	assert.Equal(t, resilience.Failure, c(ctx, status.Error(codes.NotFound, "")))
	assert.Equal(t, resilience.Success, c(ctx, status.Error(codes.Unavailable, "")), "only the listed codes fail")
	assert.Equal(t, resilience.Failure, grpcx.ClassifyCodes(codes.Code(99))(ctx, status.Error(codes.Code(99), "")),
		"a code out of range is still a failure")
}

func TestIgnoreCallerDeadline(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	deadline := status.Error(codes.DeadlineExceeded, "")
	assert.Equal(t, resilience.Ignored, grpcx.IgnoreCallerDeadline(expired, deadline))
	assert.Equal(t, resilience.Unclassified, grpcx.IgnoreCallerDeadline(context.Background(), deadline),
		"another deadline: no opinion")
	assert.Equal(t, resilience.Unclassified, grpcx.IgnoreCallerDeadline(expired, status.Error(codes.Unavailable, "")))
	assert.Equal(t, resilience.Unclassified, grpcx.IgnoreCallerDeadline(expired, nil))
}

func TestRejectionStatusRoundTrip(t *testing.T) {
	r := resilience.Rejection{Policy: "bulkhead", Name: "ledger", Reason: errors.New("full"), RetryAfter: 1500 * time.Millisecond}
	st := grpcx.RejectionStatus(codes.ResourceExhausted, r)
	assert.Equal(t, codes.ResourceExhausted, st.Code())
	assert.Equal(t, r.Error(), st.Message())

	got, ok := grpcx.RemoteRejection(st.Err())
	require.True(t, ok)
	assert.Equal(t, resilience.Rejection{Policy: "bulkhead", Name: "ledger", Reason: grpcx.ErrRemoteRejection, RetryAfter: 1500 * time.Millisecond}, got)

	noDelay := grpcx.RejectionStatus(codes.Unavailable, resilience.Rejection{Policy: "breaker"})
	assert.Len(t, noDelay.Details(), 1, "no RetryInfo when the delay is unknown")

	_, ok = grpcx.RemoteRejection(status.Error(codes.Unavailable, "plain"))
	assert.False(t, ok)
	_, ok = grpcx.RemoteRejection(errors.New("not a status"))
	assert.False(t, ok)
}

func TestByService(t *testing.T) {
	for in, want := range map[string]string{
		"/pkg.v1.Bank/Transfer": "pkg.v1.Bank",
		"pkg.v1.Bank/Transfer":  "pkg.v1.Bank",
		"odd":                   "odd",
		"":                      "",
	} {
		assert.Equal(t, want, grpcx.ByService(in), "ByService(%q)", in)
	}
}

func TestMethods(t *testing.T) {
	retryable := grpcx.Methods("/bank.v1.Bank/GetStatus", "fx.v1.Quotes/Latest", "audit.v1.Log")
	for m, want := range map[string]bool{
		"/bank.v1.Bank/GetStatus": true,
		"/bank.v1.Bank/Transfer":  false,
		"/fx.v1.Quotes/Latest":    true,
		"/fx.v1.Quotes/History":   false,
		"/audit.v1.Log/Append":    true,
		"/audit.v1.Logs/Append":   false,
	} {
		assert.Equal(t, want, retryable(m), "%s", m)
	}
}
