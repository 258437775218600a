package grpcx

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/riprap-go/riprap/resilience"
)

// DefaultFailureCodes are the status codes [Classify] judges failures of the
// server: it is down or unreachable (Unavailable), did not answer in time
// (DeadlineExceeded), is overloaded (ResourceExhausted), or broke
// (Internal, Unknown, DataLoss). Every other code is an answer: the server
// worked and said no (InvalidArgument, NotFound, AlreadyExists,
// PermissionDenied, FailedPrecondition, Aborted, Unimplemented, …).
// [Classify] copied it at start-up: to judge by other codes, pass a list of
// your own to [ClassifyCodes].
var DefaultFailureCodes = []codes.Code{
	codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted,
	codes.Internal, codes.Unknown, codes.DataLoss,
}

// Classify is the classifier the interceptors use unless configured
// otherwise: [ClassifyCodes] of [DefaultFailureCodes].
func Classify(ctx context.Context, err error) resilience.Outcome {
	return defaultCodes.classify(ctx, err)
}

var defaultCodes = newCodeTable(DefaultFailureCodes)

// ClassifyCodes returns a classifier that judges a gRPC call by the status
// code of its error: a code in failures is a [resilience.Failure], any other
// code a [resilience.Success] (an answer). Before the code it applies three
// rules, as [resilience.DefaultOutcome] does:
//
//   - a nil error is a Success;
//   - a rejection by a riprap policy on this side of the wire
//     ([resilience.IsRejected]) is Ignored: the call never left;
//   - Canceled while the caller's own context is cancelled is Ignored:
//     the caller went away, the server did not fail. Canceled for another
//     reason is judged by its code like any other.
//
// DeadlineExceeded is judged by its code whoever's deadline it was: a
// per-attempt timeout, the server's, or the caller's own deadline passing
// while the call was in flight, as [resilience.DefaultOutcome] judges the
// latter (a server that hangs trips its breaker even when the callers'
// deadlines are the only timeouts). A call whose context was done before it
// started is never judged: the guards refuse to start it. Compose with
// [IgnoreCallerDeadline] to ignore the caller's own deadline instead.
//
// An error that is not a gRPC status (a codec error returned before the
// call was sent) is a Failure. A [*resilience.Judged] error keeps its
// verdict.
func ClassifyCodes(failures ...codes.Code) resilience.ErrorClassifier {
	return newCodeTable(failures).classify
}

// IgnoreCallerDeadline is a classifier that judges DeadlineExceeded as
// Ignored when it is the caller's own deadline that passed, and defers to
// the next classifier otherwise. Put it first:
//
//	resilience.ClassifyErrors(grpcx.IgnoreCallerDeadline, grpcx.Classify)
//
// Use it when callers set deadlines shorter than the server may take to
// answer, so that their impatience does not open the breaker; the price is
// that a server that hangs no longer trips a breaker without a per-attempt
// timeout ([ClientConfig].AttemptTimeout) to tell it so.
func IgnoreCallerDeadline(ctx context.Context, err error) resilience.Outcome {
	if err != nil && ctx != nil && codeOf(err) == codes.DeadlineExceeded && deadlinePassed(ctx) {
		return resilience.Ignored
	}
	return resilience.Unclassified
}

// deadlinePassed reports whether ctx's deadline has passed. It reads the
// clock too: the server's DeadlineExceeded may arrive before the timer
// that ends ctx has run.
func deadlinePassed(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// codeTable holds an outcome for each of the 17 codes.
type codeTable [17]resilience.Outcome

func newCodeTable(failures []codes.Code) *codeTable {
	var t codeTable
	for i := range t {
		t[i] = resilience.Success
	}
	for _, c := range failures {
		if int(c) < len(t) {
			t[c] = resilience.Failure
		}
	}
	return &t
}

func (t *codeTable) classify(ctx context.Context, err error) resilience.Outcome {
	if err == nil {
		return resilience.Success
	}
	if j := findJudged(err); j != nil {
		return j.Outcome
	}
	if resilience.IsRejected(err) {
		return resilience.Ignored
	}
	c, ok := statusCode(err)
	if !ok {
		return resilience.DefaultOutcome(ctx, err)
	}
	if c == codes.Canceled && ctx != nil && errors.Is(ctx.Err(), context.Canceled) {
		return resilience.Ignored
	}
	if int(c) < len(t) {
		return t[c]
	}
	return resilience.Failure // a code from a newer gRPC: not known to be an answer
}

// codeOf returns the status code of err, Unknown for an error that carries
// none.
func codeOf(err error) codes.Code {
	c, ok := statusCode(err)
	if !ok {
		return codes.Unknown
	}
	return c
}

// grpcStatus is implemented by the errors of package status and by this
// package's rejections.
type grpcStatus interface{ GRPCStatus() *status.Status }

// statusCode finds the first gRPC status in err's chain. Unlike
// status.FromError it allocates nothing for the errors gRPC returns: it
// runs on every failed call.
func statusCode(err error) (codes.Code, bool) {
	if e := findStatusError(err); e != nil {
		return e.(grpcStatus).GRPCStatus().Code(), true
	}
	return codes.OK, false
}

// findStatusError returns the first error in err's chain that carries a
// gRPC status, as it is, so that a caller gets the value the transport
// returned.
func findStatusError(err error) error {
	for err != nil {
		if s, ok := err.(grpcStatus); ok && s.GRPCStatus() != nil {
			return err
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if s := findStatusError(e); s != nil {
					return s
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// findJudged walks err's chain for a verdict, without allocating.
func findJudged(err error) *resilience.Judged {
	for err != nil {
		switch e := err.(type) {
		case *resilience.Judged:
			return e
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if j := findJudged(inner); j != nil {
					return j
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}
