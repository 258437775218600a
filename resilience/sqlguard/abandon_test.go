package sqlguard_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

var errGaveUp = errors.New("test: gave up waiting")

// abandoning runs each attempt on its own goroutine and, when told to,
// returns without waiting for it: a timeout in abandon mode.
func abandoning(give <-chan struct{}) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		fork := next.Fork()
		done := make(chan error, 1)
		go func() { done <- fork.Run(ctx) }()
		select {
		case err := <-done:
			next.Adopt(fork)
			return err
		case <-give:
			return errGaveUp
		}
	})
}

func TestAnAbandonedAttemptKeepsTheConnectionUntilItEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(true)
		give := make(chan struct{})
		db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{abandoning(give)}})
		require.NoError(t, db.Ping())
		release := make(chan struct{})
		f.hook = func(_ context.Context, op string) {
			if op == "exec" {
				<-release
			}
		}
		var err error
		returned := false
		go func() {
			_, err = db.Exec("UPDATE t SET v = 1")
			returned = true
		}()
		synctest.Wait()
		give <- struct{}{} // the guard gives up on the attempt stuck in the driver
		synctest.Wait()
		assert.False(t, returned, "the call waits for the driver before handing the connection back")

		close(release)
		synctest.Wait()
		require.True(t, returned)
		assert.ErrorIs(t, err, errGaveUp)
		f.hook = nil
		_, err = db.Exec("UPDATE t SET v = 1")
		assert.NoError(t, err)
		assert.False(t, f.overlap.Load())
	})
}

func TestAnAttemptStartedAfterItsCallReturnedNeverReachesTheDriver(t *testing.T) {
	f := newFake(true)
	var late resilience.Next
	keeper := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		late = next.Fork() // kept past the call: a misbehaving guard
		return next.Run(ctx)
	})
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{keeper}})
	_, err := db.Exec("UPDATE t SET v = 1")
	require.NoError(t, err)

	err = late.Run(context.Background())

	assert.Error(t, err)
	assert.Equal(t, 1, f.calls("exec"))
}
