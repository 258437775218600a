package httpapi

import (
	"context"
	"errors"
	"net"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/resilience"
)

// Outcome is a resilience.ErrorClassifier for calls through these clients.
// A permanent error (a decline, a conflict, an invalid request: the
// service's own 4xx other than 408 and 429) is a Success: the dependency
// worked and answered "no", so it must not trip a breaker. Everything else
// follows resilience.DefaultOutcome: the caller's own cancellation is
// Ignored, and overload, 5xx, transport and malformed responses, and 4xx
// refusals by infrastructure in front of the service ([ErrInfrastructure]),
// are Failures.
func Outcome(ctx context.Context, err error) resilience.Outcome {
	if err != nil && payments.IsPermanent(err) {
		return resilience.Success
	}
	return resilience.DefaultOutcome(ctx, err)
}

// NotProcessed reports whether err proves the request had no effect, so
// that a payment can be reported "not attempted, safe to retry" rather than
// "outcome unknown":
//
//   - [ErrOverloaded]: by the contract of this API, 429 and 503 are sent
//     before any processing (the simulator honours it);
//   - [ErrClientError] and payments validation errors: refused as invalid;
//   - [ErrInfrastructure]: a 4xx refuses a request, and infrastructure in
//     front of the service refuses before forwarding — an auth proxy's 401
//     or 403 before the bank, a 404 for a route nobody serves (a
//     misconfiguration) — so nothing reached the bank. A reply lost after
//     forwarding, the one case that could hide a commit, is reported by a
//     proxy as 502 or 504, never as a 4xx;
//   - a dial error: the request never left this process.
//
// It is false for nil and for every error whose effect is unknown
// (5xx, a connection lost after sending, a malformed 2xx, a timeout).
func NotProcessed(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrOverloaded) || errors.Is(err, ErrClientError) || errors.Is(err, ErrInfrastructure) ||
		errors.Is(err, payments.ErrInvalidRequest) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
