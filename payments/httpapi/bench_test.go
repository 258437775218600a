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
	h := sim.BankHandler(bank, nil)
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

// BenchmarkAppendBatchLoopback: batches of 100 entries through the typed
// client, real HTTP on 127.0.0.1, the simulated log with no faults; the
// entries/s figure is the transport's ceiling for the outbox replayer.
func BenchmarkAppendBatchLoopback(b *testing.B) {
	h := sim.LogHandler(sim.NewLog(sim.LogConfig{}), nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := httpapi.NewLogClient(srv.URL, httpapi.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	const size = 100
	batch := make([]payments.Entry, size)
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = entry("p" + strconv.Itoa(n))
		}
		results, err := c.AppendBatch(ctx, batch)
		if err != nil || len(results) != size {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}
