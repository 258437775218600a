package outbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/outbox"
)

// Entries put in a file outbox survive a crash and are delivered once.
func ExampleFile() {
	dir, _ := os.MkdirTemp("", "outbox")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log.outbox")

	o, _ := outbox.OpenFile(path, outbox.FileConfig{})
	for _, id := range []string{"pay-1", "pay-2"} {
		_ = o.Put(payments.Entry{PaymentID: id, Amount: payments.MustParseMoney("5.00 EUR")})
	}
	// The process dies here without closing o.

	o, _ = outbox.OpenFile(path, outbox.FileConfig{})
	defer o.Close()
	fmt.Println("pending after restart:", o.Len())
	n, err := outbox.Drain(context.Background(), o, func(_ context.Context, e payments.Entry) error {
		fmt.Println("deliver", e.PaymentID, e.Amount)
		return nil
	})
	fmt.Println(n, err, o.Len())
	// Output:
	// pending after restart: 2
	// deliver pay-1 5.00 EUR
	// deliver pay-2 5.00 EUR
	// 2 <nil> 0
}

func ExampleMemory() {
	o, _ := outbox.NewMemory(outbox.Config{MaxEntries: 1})
	amount := payments.MustParseMoney("1.00 USD")
	fmt.Println(o.Put(payments.Entry{PaymentID: "pay-1", Amount: amount}))
	fmt.Println(o.Put(payments.Entry{PaymentID: "pay-2", Amount: amount}))
	// Output:
	// <nil>
	// outbox: full: 1 entries pending
}
