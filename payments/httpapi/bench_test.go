package httpapi_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/httpapi"
	"github.com/riprap-go/riprap/payments/sim"
)

// BenchmarkTransferLoopback: one transfer through the typed client, real
// HTTP on 127.0.0.1, the simulated bank with no faults.
func BenchmarkTransferLoopback(b *testing.B) {
	bank := simBank(b)
	if err := bank.Open("acct_alice0001", payments.New(1<<60, payments.USD)); err != nil {
		b.Fatal(err)
	}
	h, err := sim.BankHandler(bank, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := httpapi.NewBankClient(srv.URL, httpapi.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := c.Transfer(ctx, transferReq("k"+strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
}
