package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// Open refuses a bad configuration before it dials anything, with a
// ConfigError naming the field.
func ExampleOpen_config() {
	_, err := pgstore.Open(context.Background(), pgstore.Config{Schema: "gateway"})
	var ce *resilience.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)
	fmt.Println(err)

	_, err = pgstore.Open(context.Background(), pgstore.Config{DSN: "postgres://gw@db/payments", Schema: "Gateway"})
	fmt.Println(err)
	// Output:
	// true DSN
	// pgstore "postgres": DSN must not be empty, got ""
	// pgstore "postgres": Schema must match [a-z_][a-z0-9_]* and be at most 63 bytes, got "Gateway"
}

// Each instance of a fleet opens the same schema with its own pool and
// its own guards, and names itself in the leases it takes. (This example
// needs a server, so it is compiled, not run.)
func ExampleOpen() {
	ctx := context.Background()
	br, err := breaker.New(breaker.Config{Name: "ledger", ConsecutiveFailures: 5})
	if err != nil {
		panic(err)
	}
	s, err := pgstore.Open(ctx, pgstore.Config{
		DSN:    "postgres://gateway@db.internal:5432/payments?sslmode=verify-full",
		Schema: "gateway",
		Store:  store.Config{MaxOutbox: 50000},
		Guards: []resilience.Guard{br},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	// A restarted instance frees the claims its previous run held.
	if _, err := s.Expire(ctx, "gw-eu-1"); err != nil {
		panic(err)
	}
	due, err := s.DuePending(ctx, store.Lease{Owner: "gw-eu-1", Now: time.Now(), TTL: time.Minute}, time.Now(), 100)
	fmt.Println(len(due), err)
}

// Classify tells the database's answers from its failures, so that a
// unique-key violation never trips a breaker and a server shutting down
// does.
func ExampleClassify() {
	ctx := context.Background()
	for _, code := range []string{"23505", "22003", "57P01", "08006", "40P01"} {
		err := &pgconn.PgError{Code: code}
		fmt.Println(code, pgstore.Classify(ctx, err), pgstore.Retryable(err))
	}
	// Output:
	// 23505 success false
	// 22003 success false
	// 57P01 failure false
	// 08006 failure false
	// 40P01 failure true
}
