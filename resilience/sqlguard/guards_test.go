package sqlguard_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

// recorder is a guard that remembers what it saw of each call: the error
// and how DefaultOutcome — what a breaker uses — judges it.
type recorder struct {
	mu       sync.Mutex // protects the fields below
	errs     []error
	outcomes []resilience.Outcome
}

func (r *recorder) Guard(ctx context.Context, next resilience.Next) error {
	err := next.Run(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
	r.outcomes = append(r.outcomes, resilience.DefaultOutcome(ctx, err))
	return err
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.outcomes)
}

func (r *recorder) last() (o resilience.Outcome, seen error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.outcomes) == 0 {
		return resilience.Unclassified, nil
	}
	return r.outcomes[len(r.outcomes)-1], r.errs[len(r.errs)-1]
}

// refuser rejects every call while on, as an open breaker would.
type refuser struct{ on atomic.Bool }

var errRefused = errors.New("test: refused")

func (r *refuser) Guard(ctx context.Context, next resilience.Next) error {
	if r.on.Load() {
		return resilience.Reject("test", "db", errRefused, 0)
	}
	return next.Run(ctx)
}

// retryUpTo is a plain retry: up to n attempts while the call fails.
func retryUpTo(n int) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		var err error
		for range n {
			if err = next.Run(ctx); err == nil {
				return nil
			}
		}
		return err
	})
}

// errUnique stands for a driver's constraint violation: an answer.
type uniqueError struct{}

func (uniqueError) Error() string { return "UNIQUE constraint failed: payments.key" }

var errUnique error = uniqueError{}

// errBusy stands for a driver's "try again" error.
var errBusy = errors.New("database is busy")

func openDB(t *testing.T, f *fake, cfg sqlguard.Config) *sql.DB {
	t.Helper()
	db := sql.OpenDB(sqlguard.Wrap(f, cfg))
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	db.SetMaxOpenConns(1)
	return db
}
