package sqlguard_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

func TestClassify(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want resilience.Outcome
	}{
		{"nil", live, nil, resilience.Success},
		{"no rows", live, sql.ErrNoRows, resilience.Success},
		{"skip", live, driver.ErrSkip, resilience.Success},
		{"remove argument", live, driver.ErrRemoveArgument, resilience.Success},
		{"constraint violation", live, errUnique, resilience.Success},
		{"wrapped constraint violation", live, fmt.Errorf("insert: %w", errUnique), resilience.Success},
		{"bad connection", live, driver.ErrBadConn, resilience.Failure},
		{"eof", live, io.EOF, resilience.Failure},
		{"unexpected eof", live, fmt.Errorf("read: %w", io.ErrUnexpectedEOF), resilience.Failure},
		{"refused", live, refused, resilience.Failure},
		{"reset", live, syscall.ECONNRESET, resilience.Failure},
		{"broken pipe", live, syscall.EPIPE, resilience.Failure},
		{"deadline", live, context.DeadlineExceeded, resilience.Failure},
		{"os deadline", live, os.ErrDeadlineExceeded, resilience.Failure},
		{"timeout method", live, &timeoutError{}, resilience.Failure},
		{"caller cancelled", cancelled, context.Canceled, resilience.Ignored},
		{"caller cancelled, driver's own words", cancelled, errors.New("canceling statement due to user request"), resilience.Ignored},
		{"rejection", live, resilience.Reject("breaker", "db", errRefused, 0), resilience.Ignored},
		{"judged failure", live, &resilience.Judged{Outcome: resilience.Failure, Err: errUnique}, resilience.Failure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, sqlguard.Classify(tc.ctx, tc.err), "Classify(%v)", tc.err)
		})
	}
}

func TestClassifyDeadlineInFlightIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		<-ctx.Done()
		// A driver reporting its own words once the caller's deadline passed.
		assert.Equal(t, resilience.Failure, sqlguard.Classify(ctx, errors.New("canceling statement due to statement timeout")))
	})
}

func TestIsConnectionError(t *testing.T) {
	assert.False(t, sqlguard.IsConnectionError(nil))
	assert.False(t, sqlguard.IsConnectionError(errUnique))
	assert.True(t, sqlguard.IsConnectionError(fmt.Errorf("q: %w", driver.ErrBadConn)))
	assert.True(t, sqlguard.IsConnectionError(&net.OpError{Op: "read", Err: errors.New("x")}))
}

func TestAUserClassifierComesFirstAndMayDefer(t *testing.T) {
	errLocked := errors.New("database is locked")
	user := func(_ context.Context, err error) resilience.Outcome {
		if errors.Is(err, errLocked) {
			return resilience.Failure
		}
		return resilience.Unclassified
	}
	f := newFake(true)
	rec := &recorder{}
	db := openDB(t, f, sqlguard.Config{Guards: []resilience.Guard{rec}, Classify: user})
	f.fail("exec", errLocked, errUnique)

	_, err := db.Exec("UPDATE t SET v = 1")
	assert.Equal(t, errLocked, err)
	outcome, _ := rec.last()
	assert.Equal(t, resilience.Failure, outcome, "the user's verdict")

	_, err = db.Exec("UPDATE t SET v = 1")
	assert.Equal(t, errUnique, err)
	outcome, _ = rec.last()
	assert.Equal(t, resilience.Success, outcome, "deferred to Classify")
}
