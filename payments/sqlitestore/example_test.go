package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/sqlguard"
)

// riprap's database/sql integration on SQLite: a breaker guards every call
// of a plain *sql.DB. A unique-key violation is the database answering and
// never trips it; a database locked by another process is a failure, and
// after two the breaker opens and calls are refused before they reach
// SQLite. The classification of SQLite's errors comes from this module.
func Example_sqlguard() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ledger.db")

	br, _ := breaker.New(breaker.Config{Name: "ledger", ConsecutiveFailures: 2})
	db, err := sqlguard.Open("sqlite", path+"?_pragma=busy_timeout(10)", sqlguard.Config{
		Guards:    []resilience.Guard{br},
		Classify:  sqlitestore.Classify,
		Retryable: sqlitestore.Retryable,
	})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()
	insert := func(key string) {
		_, err := db.ExecContext(ctx, "INSERT INTO payments (key) VALUES (?)", key)
		fmt.Printf("insert %s: %-32s breaker %v\n", key, describe(err), br.State())
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE payments (key TEXT PRIMARY KEY)"); err != nil {
		panic(err)
	}

	insert("p-1")
	insert("p-1")

	other, _ := sql.Open("sqlite", path) // another process takes the write lock
	defer other.Close()
	lock, _ := other.Conn(ctx)
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		panic(err)
	}
	insert("p-2")
	insert("p-3")
	insert("p-4")
	// Output:
	// insert p-1: ok                               breaker closed
	// insert p-1: answer: UNIQUE violation         breaker closed
	// insert p-2: failure: database locked         breaker closed
	// insert p-3: failure: database locked         breaker open
	// insert p-4: refused: breaker open            breaker open
}

func describe(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, breaker.ErrOpen):
		return "refused: breaker open"
	case sqlitestore.Code(err) == 19:
		return "answer: UNIQUE violation"
	case sqlitestore.Retryable(err):
		return "failure: database locked"
	}
	return err.Error()
}

// A payment recorded in the store survives the process: reopened, the
// store answers a retry of it from the ledger and still holds its log
// entry.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gateway.db")
	ctx := context.Background()
	lease := store.Lease{Owner: "gw-1", Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), TTL: time.Minute}
	req := payments.PaymentRequest{IdempotencyKey: "order-1842", Payer: "acct_alice0001", Payee: "acct_bob00002",
		Amount: payments.MustParseMoney("12.50 USD")}

	s, err := sqlitestore.Open(path, sqlitestore.Config{})
	if err != nil {
		panic(err)
	}
	c, _ := s.Claim(ctx, req, lease)
	_ = s.MarkStarted(ctx, req.IdempotencyKey, c.Record.Claim.Token, "bank")
	entry := payments.Entry{PaymentID: req.IdempotencyKey, TransferID: "tr-77", Payer: req.Payer, Payee: req.Payee,
		Amount: req.Amount, At: lease.Now}
	_ = s.Finish(ctx, req.IdempotencyKey, c.Record.Claim.Token,
		store.Result{State: store.Succeeded, TransferID: "tr-77"}, &entry)
	_ = s.Close()

	s, err = sqlitestore.Open(path, sqlitestore.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	retry, _ := s.Claim(ctx, req, lease)
	queued, _ := s.Next(ctx, lease, 10)
	fmt.Println(retry.Status, retry.Record.Result.State, retry.Record.Result.TransferID)
	fmt.Println("log entry waiting:", queued[0].PaymentID, queued[0].Amount)
	// Output:
	// replayed succeeded tr-77
	// log entry waiting: order-1842 12.50 USD
}
