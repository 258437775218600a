package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"

	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/resilience"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		code      string
		want      resilience.Outcome
		retryable bool
	}{
		{"08006", resilience.Failure, false}, // connection failure
		{"08001", resilience.Failure, false}, // unable to connect
		{"57P01", resilience.Failure, false}, // admin shutdown
		{"57P02", resilience.Failure, false}, // crash shutdown
		{"57P03", resilience.Failure, false}, // cannot connect now
		{"57014", resilience.Failure, false}, // statement_timeout
		{"55P03", resilience.Failure, false}, // lock_timeout
		{"53100", resilience.Failure, false}, // disk full
		{"53300", resilience.Failure, false}, // too many connections
		{"58030", resilience.Failure, false}, // I/O error
		{"XX001", resilience.Failure, false}, // data corrupted
		{"40001", resilience.Failure, true},  // serialization failure
		{"40P01", resilience.Failure, true},  // deadlock
		{"23505", resilience.Success, false}, // unique violation
		{"23514", resilience.Success, false}, // check violation
		{"22003", resilience.Success, false}, // numeric out of range
		{"42P01", resilience.Success, false}, // undefined table
		{"25P02", resilience.Success, false}, // in failed transaction
		{"P0001", resilience.Success, false}, // raised by a function
		{"01000", resilience.Unclassified, false},
		{"", resilience.Unclassified, false},
	} {
		err := fmt.Errorf("pgstore: claim: %w", &pgconn.PgError{Code: tc.code, Message: "m"})
		assert.Equal(t, tc.want, pgstore.Classify(context.Background(), err), "SQLSTATE %q", tc.code)
		assert.Equal(t, tc.retryable, pgstore.Retryable(err), "SQLSTATE %q retryable", tc.code)
		assert.Equal(t, tc.code, pgstore.Code(err))
	}
}

func TestClassifyLeavesOthersAlone(t *testing.T) {
	assert.Equal(t, resilience.Unclassified, pgstore.Classify(context.Background(), errors.New("not postgres")))
	assert.Equal(t, resilience.Unclassified, pgstore.Classify(context.Background(), nil))
	assert.Empty(t, pgstore.Code(nil))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Equal(t, resilience.Unclassified, pgstore.Classify(cancelled, &pgconn.PgError{Code: "57014"}),
		"the caller's own cancellation is judged by sqlguard, not as the database's failure")
}
