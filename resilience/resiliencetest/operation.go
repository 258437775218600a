package resiliencetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/riprap-go/riprap/resilience"
)

// ErrInjected is the failure [FailN] returns when given a nil error.
var ErrInjected = errors.New("resiliencetest: injected failure")

// Flaky is an operation whose calls fail or succeed by a script fixed in
// advance, whatever their context: [FailN] fails the first n calls, [Script]
// follows a list of errors. Calls are numbered in the order they start, so
// concurrent callers between them see each step once.
//
// The zero value succeeds every time. A Flaky is safe for concurrent use.
type Flaky struct {
	step  func(call int64) error // the error of the call numbered from 0; nil means success
	calls atomic.Int64
}

// FailN returns an operation that fails its first n calls with err, or with
// [ErrInjected] when err is nil, and succeeds from then on.
func FailN(n int, err error) *Flaky {
	if err == nil {
		err = ErrInjected
	}
	return &Flaky{step: func(call int64) error {
		if call < int64(n) {
			return err
		}
		return nil
	}}
}

// Script returns an operation whose k-th call returns steps[k] (nil means
// success) and whose calls past the end repeat the last step. With no steps
// it always succeeds.
func Script(steps ...error) *Flaky {
	steps = append([]error(nil), steps...)
	return &Flaky{step: func(call int64) error {
		if len(steps) == 0 {
			return nil
		}
		return steps[min(call, int64(len(steps)-1))]
	}}
}

// Run counts the call and returns its scripted error. It ignores ctx, as a
// dependency that answers at once does. A nil Flaky returns
// [resilience.ErrNilFunc].
func (f *Flaky) Run(context.Context) error {
	if f == nil {
		return resilience.ErrNilFunc
	}
	call := f.calls.Add(1) - 1
	if f.step == nil {
		return nil
	}
	return f.step(call)
}

// Calls reports how many times Run was called.
func (f *Flaky) Calls() int {
	if f == nil {
		return 0
	}
	return int(f.calls.Load())
}

// Func turns an error-only operation (a [*Flaky], a [*Blocking]) into a
// [resilience.Func] returning v when the operation succeeds and the zero T
// with its error when it fails. A nil op yields [resilience.ErrNilFunc].
func Func[T any](op interface{ Run(context.Context) error }, v T) resilience.Func[T] {
	return func(ctx context.Context) (T, error) {
		if op == nil {
			var zero T
			return zero, resilience.ErrNilFunc
		}
		if err := op.Run(ctx); err != nil {
			var zero T
			return zero, err
		}
		return v, nil
	}
}

// Blocking is an operation that blocks until [Blocking.Release] is called or
// its context ends: a dependency that hangs, for testing timeouts, hedges
// and bulkheads. Inside a testing/synctest bubble a blocked call is durably
// blocked, so synctest.Wait returns once every call is parked in Run; create
// the Blocking inside the bubble.
//
// The zero value is ready to use. A Blocking is safe for concurrent use.
type Blocking struct {
	mu       sync.Mutex    // protects release and released
	release  chan struct{} // closed by Release
	released bool

	calls, running atomic.Int64
}

// NewBlocking returns a Blocking that has not been released.
func NewBlocking() *Blocking { return &Blocking{} }

func (b *Blocking) gate() chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.release == nil {
		b.release = make(chan struct{})
	}
	return b.release
}

// Run blocks until b is released, and then returns nil, or until ctx ends,
// and then returns ctx.Err(). Once b is released, Run returns at once.
func (b *Blocking) Run(ctx context.Context) error {
	if b == nil {
		return resilience.ErrNilFunc
	}
	gate := b.gate()
	b.calls.Add(1)
	b.running.Add(1)
	defer b.running.Add(-1)
	select {
	case <-gate: // released wins over an ended context
		return nil
	default:
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release lets every blocked call and every later one return nil. Calling
// it again does nothing.
func (b *Blocking) Release() {
	gate := b.gate()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.released {
		b.released = true
		close(gate)
	}
}

// Calls reports how many calls have entered Run.
func (b *Blocking) Calls() int { return int(b.calls.Load()) }

// Running reports how many calls are inside Run now. In a synctest bubble,
// call synctest.Wait first so that the goroutines started have arrived.
func (b *Blocking) Running() int { return int(b.running.Load()) }
