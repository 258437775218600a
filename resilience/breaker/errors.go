package breaker

import (
	"errors"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// policyName is the Policy field of this package's rejections and events.
const policyName = "breaker"

// Sentinel errors, matched with errors.Is.
var (
	// ErrOpen: the breaker is open, held open or forced open and refuses
	// calls. [RejectedError.State] tells which.
	ErrOpen = errors.New("breaker: circuit open")
	// ErrHalfOpenFull: the breaker is half-open and every probe slot is
	// taken by a call still in flight.
	ErrHalfOpenFull = errors.New("breaker: half-open, probe slots full")
	// ErrNilBreaker is returned by every call guarded by a nil *Breaker
	// (a nil breaker put in a pipeline) and by [Registry.Register](nil).
	ErrNilBreaker = errors.New("breaker: nil Breaker")
	// ErrConfigMismatch is returned by [Registry.GetOrCreate] when the
	// breaker of that name was made with different settings.
	ErrConfigMismatch = errors.New("breaker: config differs from the registered breaker's")
	// ErrNameTaken is returned by [Registry.Register] when another breaker
	// of the same name is registered.
	ErrNameTaken = errors.New("breaker: name already registered")
)

// errPanicked is the Err of the outcome event of a call that panicked.
var errPanicked = errors.New("breaker: guarded function panicked")

// RejectedError is the error [Breaker.Allow] returns when it refuses a
// call. It unwraps to [ErrOpen] or [ErrHalfOpenFull], and implements
// [resilience.Rejecter], so [resilience.IsRejected] and
// [resilience.RetryAfter] work on it.
//
// One RejectedError is made per state a breaker enters and shared by every
// call that state refuses, so a rejection allocates nothing; RetryAfter is
// therefore computed when asked, from the breaker's clock. It is safe for
// concurrent use; its zero value reports ErrOpen with no name.
type RejectedError struct {
	b      *Breaker
	ph     *phase
	reason error
}

// Error reads like `breaker: circuit open (name "bank", retry after 2s)`.
func (e *RejectedError) Error() string {
	r := e.Rejection()
	return r.Error()
}

// Unwrap returns ErrOpen or ErrHalfOpenFull.
func (e *RejectedError) Unwrap() error {
	if e.reason == nil {
		return ErrOpen
	}
	return e.reason
}

// Name returns the name of the breaker that refused the call.
func (e *RejectedError) Name() string {
	if e.b == nil {
		return ""
	}
	return e.b.name
}

// State returns the state the breaker was in when it refused the call:
// [Open], [HeldOpen], [ForcedOpen] or [HalfOpen].
func (e *RejectedError) State() State {
	if e.ph == nil {
		return Open
	}
	return e.ph.state
}

// RetryAfter returns the time left, as of now, until the open breaker
// admits a probe, or until a breaker held open by [Breaker.HoldOpen]
// expects its release; zero when the wait is over. A breaker forced open by
// hand or a half-open one does not know, and returns zero.
func (e *RejectedError) RetryAfter() time.Duration {
	if e.b == nil || e.ph == nil {
		return 0
	}
	if st := e.ph.state; st != Open && st != HeldOpen {
		return 0
	}
	if d := e.ph.until.Load() - e.b.now(); d > 0 {
		return time.Duration(d)
	}
	return 0
}

// Rejection returns the details as a [resilience.Rejection].
func (e *RejectedError) Rejection() resilience.Rejection {
	return resilience.Rejection{
		Policy: policyName, Name: e.Name(), Reason: e.Unwrap(), RetryAfter: e.RetryAfter(),
	}
}
