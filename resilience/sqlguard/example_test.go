package sqlguard_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

// A breaker around every call of a *sql.DB: answers from the database (a
// unique-key violation) never trip it, a database that stops answering
// does, and then calls are refused before they reach it. The call sites are
// plain database/sql. (The connector here is a test double; see the
// sqlitestore module for the same on SQLite.)
func Example() {
	connector := newFake(true) // any driver.Connector
	connector.fail("exec", errUnique, errUnique, errUnique, io.ErrUnexpectedEOF, io.ErrUnexpectedEOF)

	br, err := breaker.New(breaker.Config{Name: "db", ConsecutiveFailures: 2})
	if err != nil {
		panic(err)
	}
	db := sql.OpenDB(sqlguard.Wrap(connector, sqlguard.Config{Guards: []resilience.Guard{br}}))
	defer db.Close()

	for range 6 {
		_, err := db.ExecContext(context.Background(), "INSERT INTO payments (key) VALUES ('p-1')")
		rejected := resilience.IsRejected(err)
		if errors.Is(err, breaker.ErrOpen) {
			err = errors.New("refused: breaker open")
		}
		fmt.Printf("%-40v rejected=%-5v breaker %v\n", err, rejected, br.State())
	}
	// Output:
	// UNIQUE constraint failed: payments.key   rejected=false breaker closed
	// UNIQUE constraint failed: payments.key   rejected=false breaker closed
	// UNIQUE constraint failed: payments.key   rejected=false breaker closed
	// unexpected EOF                           rejected=false breaker closed
	// unexpected EOF                           rejected=false breaker open
	// refused: breaker open                    rejected=true  breaker open
}

// A statement marked idempotent is retried when the driver says the
// database did not act on it; an unmarked one never is.
func ExampleIdempotent() {
	connector := newFake(true)
	retry := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		err := next.Run(ctx)
		if err != nil {
			fmt.Println("retrying after:", err)
			err = next.Run(ctx)
		}
		return err
	})
	db := sql.OpenDB(sqlguard.Wrap(connector, sqlguard.Config{
		Retry:     retry,
		Retryable: func(err error) bool { return errors.Is(err, errBusy) },
	}))
	defer db.Close()

	connector.fail("exec", errBusy)
	_, err := db.ExecContext(context.Background(), "INSERT INTO payments (key) VALUES ('p-1')")
	fmt.Println("unmarked:", err)

	connector.fail("exec", errBusy)
	_, err = db.ExecContext(sqlguard.Idempotent(context.Background()), "UPDATE payments SET seen = 1")
	fmt.Println("marked:", err)
	// Output:
	// unmarked: database is busy
	// retrying after: database is busy
	// marked: <nil>
}
