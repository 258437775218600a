package grpcx

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
)

// PushbackKey is the trailer by which a gRPC server tells clients how many
// milliseconds to wait before trying again (gRFC A6). A value that is not a
// non-negative integer means "do not retry".
const PushbackKey = "grpc-retry-pushback-ms"

// ErrorDomain and ErrorReason mark the errdetails.ErrorInfo that
// [RejectionStatus] puts in a status; [RemoteRejection] looks for them.
const (
	ErrorDomain = "riprap-go.github.io"
	ErrorReason = "REJECTED"
)

// ErrRemoteRejection is the Reason of a [resilience.Rejection] decoded by
// [RemoteRejection]: a riprap policy on the other side refused the call.
var ErrRemoteRejection = errors.New("grpcx: refused by a riprap policy of the server")

// RejectionStatus returns a status of code c for a call that a riprap policy
// refused. Its message is the rejection's text; its details are an
// errdetails.ErrorInfo (domain [ErrorDomain], reason [ErrorReason],
// metadata "policy" and "name") and, when the policy knows how long it will
// keep refusing, an errdetails.RetryInfo with that delay. The client
// interceptors answer a local refusal with Unavailable, the server
// interceptors with ResourceExhausted.
func RejectionStatus(c codes.Code, r resilience.Rejection) *status.Status {
	st := status.New(c, r.Error())
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{
		Reason: ErrorReason, Domain: ErrorDomain,
		Metadata: map[string]string{"policy": r.Policy, "name": r.Name},
	}}
	if r.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(r.RetryAfter)})
	}
	if withDetails, err := st.WithDetails(details...); err == nil {
		return withDetails
	}
	return st // unreachable: both details are well-formed messages
}

// RemoteRejection reports whether err is a status made by [RejectionStatus]
// (by this side's interceptors or the server's) and returns the rejection
// it describes, with [ErrRemoteRejection] as its Reason. For a payment it
// means the call was refused before any handler ran: not attempted.
func RemoteRejection(err error) (resilience.Rejection, bool) {
	e := findStatusError(err)
	if e == nil {
		return resilience.Rejection{}, false
	}
	var r resilience.Rejection
	found := false
	for _, d := range e.(grpcStatus).GRPCStatus().Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == ErrorDomain && d.GetReason() == ErrorReason {
				found = true
				r.Policy, r.Name = d.GetMetadata()["policy"], d.GetMetadata()["name"]
			}
		case *errdetails.RetryInfo:
			r.RetryAfter = d.GetRetryDelay().AsDuration()
		}
	}
	if !found {
		return resilience.Rejection{}, false
	}
	r.Reason = ErrRemoteRejection
	return r, true
}

// rejectedError is what a client interceptor returns for a call a local
// policy refused: an Unavailable status for gRPC code (status.Code,
// status.FromError), a rejection for riprap ([resilience.IsRejected],
// [resilience.RetryAfter]), and the refusing policy's error for errors.Is
// (breaker.ErrOpen, ratelimit.ErrLimited, …).
type rejectedError struct {
	r   resilience.Rejection
	err error
	st  *status.Status
}

func newRejectedError(c codes.Code, r resilience.Rejection, err error) *rejectedError {
	return &rejectedError{r: r, err: err, st: RejectionStatus(c, r)}
}

func (e *rejectedError) Error() string                   { return e.st.Err().Error() }
func (e *rejectedError) GRPCStatus() *status.Status      { return e.st }
func (e *rejectedError) Rejection() resilience.Rejection { return e.r }
func (e *rejectedError) Unwrap() error                   { return e.err }

// withPushback returns err annotated with the server's pushback trailer: a
// delay becomes a Retry-After hint that a retry honours up to its
// MaxRetryAfter (and a breaker may lengthen its open wait by); a value
// that is not a non-negative integer makes err permanent, so it is not
// retried.
func withPushback(err error, trailer metadata.MD) error {
	vals := trailer.Get(PushbackKey)
	if err == nil || len(vals) == 0 {
		return err
	}
	ms, perr := strconv.ParseInt(vals[0], 10, 64)
	switch {
	case perr != nil || ms < 0:
		return backoff.Permanent(err)
	case ms == 0:
		return err
	}
	return resilience.WithRetryAfter(err, time.Duration(min(ms, maxPushbackMS))*time.Millisecond)
}

// maxPushbackMS keeps a hostile pushback from overflowing a Duration; a
// retry caps the wait far lower anyway (MaxRetryAfter).
const maxPushbackMS = int64(24 * time.Hour / time.Millisecond)

// setPushback tells the client to wait d before trying again, in the
// trailer gRPC's own retry and this package's client honour. Delays under
// a millisecond round up, so that "wait" never reads as "retry at once".
func setPushback(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	// SetTrailer fails only outside a handler or after the call ended;
	// the status details carry the delay too.
	_ = grpc.SetTrailer(ctx, metadata.Pairs(PushbackKey, strconv.FormatInt(int64(ms), 10)))
}

// callerError turns what a client pipeline returned into what a gRPC
// caller expects: the transport's own status error where there is one, a
// rejection as an Unavailable status, a context error as its status.
func callerError(err error) error {
	if err == nil {
		return nil
	}
	if r, ok := resilience.AsRejection(err); ok {
		var re *rejectedError
		if errors.As(err, &re) {
			return re
		}
		return newRejectedError(codes.Unavailable, r, err)
	}
	if e := findStatusError(err); e != nil {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Internal, err.Error())
}
