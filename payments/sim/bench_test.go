package sim_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/sim"
)

func benchBank(b *testing.B) *sim.Bank {
	bank := newBank(b)
	if err := bank.Open(alice, payments.New(1<<60, payments.USD)); err != nil {
		b.Fatal(err)
	}
	return bank
}

func BenchmarkBankTransfer(b *testing.B) {
	bank := benchBank(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := bank.Transfer(ctx, transfer("k"+strconv.Itoa(i), "0.01 USD")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBankTransferParallel(b *testing.B) {
	bank := benchBank(b)
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := "k" + strconv.FormatInt(n.Add(1), 10)
			if _, err := bank.Transfer(ctx, transfer(key, "0.01 USD")); err != nil {
				b.Error(err)
			}
		}
	})
}
