package throttle

import "errors"

// ErrThrottled is matched (errors.Is) by the error of every call the
// throttle refuses. That error is a [resilience.Rejection] naming the
// throttle, so [resilience.IsRejected] is true for it.
var ErrThrottled = errors.New("throttle: call refused by adaptive throttling")

// ErrNilThrottle is returned by every call through a nil *Throttle.
var ErrNilThrottle = errors.New("throttle: nil Throttle")

// errPanicked is the Err of the outcome event of a call that panicked.
var errPanicked = errors.New("throttle: guarded function panicked")
