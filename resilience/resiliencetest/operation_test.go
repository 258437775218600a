package resiliencetest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/resiliencetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errDown = errors.New("bank: 503")

func runs(op interface{ Run(context.Context) error }, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = op.Run(context.Background())
	}
	return errs
}

func TestFailN(t *testing.T) {
	tests := []struct {
		name string
		n    int
		err  error
		want []error
	}{
		{"fails twice then succeeds", 2, errDown, []error{errDown, errDown, nil, nil}},
		{"zero never fails", 0, errDown, []error{nil, nil}},
		{"negative never fails", -3, errDown, []error{nil}},
		{"nil error means ErrInjected", 1, nil, []error{resiliencetest.ErrInjected, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := resiliencetest.FailN(tt.n, tt.err)
			assert.Equal(t, tt.want, runs(f, len(tt.want)))
			assert.Equal(t, len(tt.want), f.Calls())
		})
	}
}

func TestScript(t *testing.T) {
	errSlow := errors.New("bank: slow")
	tests := []struct {
		name  string
		steps []error
		want  []error
	}{
		{"in order, last repeats", []error{errDown, nil, errSlow}, []error{errDown, nil, errSlow, errSlow, errSlow}},
		{"ends in success", []error{errDown, nil}, []error{errDown, nil, nil}},
		{"empty always succeeds", nil, []error{nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := resiliencetest.Script(tt.steps...)
			assert.Equal(t, tt.want, runs(f, len(tt.want)))
		})
	}
}

func TestScriptKeepsItsOwnCopyOfTheSteps(t *testing.T) {
	steps := []error{errDown}
	f := resiliencetest.Script(steps...)
	steps[0] = nil
	assert.Equal(t, errDown, f.Run(context.Background()))
}

func TestFlakyZeroValueAndNil(t *testing.T) {
	var zero resiliencetest.Flaky
	assert.NoError(t, zero.Run(context.Background()))
	assert.Equal(t, 1, zero.Calls())
	var nilFlaky *resiliencetest.Flaky
	assert.ErrorIs(t, nilFlaky.Run(context.Background()), resilience.ErrNilFunc)
	assert.Zero(t, nilFlaky.Calls())
}

// Concurrent callers share the script: exactly n of them fail.
func TestFailNUnderConcurrency(t *testing.T) {
	f := resiliencetest.FailN(50, errDown)
	var (
		mu       sync.Mutex
		failures int
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if f.Run(context.Background()) != nil {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 50, failures)
	assert.Equal(t, 200, f.Calls())
}

func TestFunc(t *testing.T) {
	call := resiliencetest.Func(resiliencetest.FailN(1, errDown), "receipt")
	v, err := call(context.Background())
	assert.Equal(t, "", v)
	assert.Equal(t, errDown, err)
	v, err = call(context.Background())
	assert.Equal(t, "receipt", v)
	assert.NoError(t, err)

	_, err = resiliencetest.Func[int](nil, 1)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

func TestBlockingWaitsForReleaseOrContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := resiliencetest.NewBlocking()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		results := make(chan error, 3)
		go func() { results <- b.Run(ctx) }()
		go func() { results <- b.Run(context.Background()) }()
		synctest.Wait()
		require.Equal(t, 2, b.Running(), "both calls are parked")
		require.Empty(t, results)

		time.Sleep(time.Second) // fake time: the first call's deadline passes
		assert.ErrorIs(t, <-results, context.DeadlineExceeded)
		assert.Equal(t, 1, b.Running())

		b.Release()
		assert.NoError(t, <-results)
		b.Release() // a second release is harmless
		go func() { results <- b.Run(ctx) }()
		assert.NoError(t, <-results, "once released, even a call whose context ended returns nil")
		assert.Equal(t, 3, b.Calls())
		assert.Zero(t, b.Running())
	})
}

func TestBlockingAsAFunc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b resiliencetest.Blocking // the zero value works
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := resiliencetest.Func(&b, 1)(ctx)
			done <- err
		}()
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
	var nilBlocking *resiliencetest.Blocking
	assert.ErrorIs(t, nilBlocking.Run(context.Background()), resilience.ErrNilFunc)
}
