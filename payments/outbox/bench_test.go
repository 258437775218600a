package outbox_test

import (
	"path/filepath"
	"testing"

	"github.com/riprap-go/riprap/payments/outbox"
)

// BenchmarkMemoryPutAck: one entry through an in-memory outbox.
func BenchmarkMemoryPutAck(b *testing.B) {
	o, err := outbox.NewMemory(outbox.Config{})
	if err != nil {
		b.Fatal(err)
	}
	e := entry(1)
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Put(e); err != nil {
			b.Fatal(err)
		}
		if err := o.Ack(o.Pending()[0].Seq); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilePutAck: one entry through the durable outbox — two fsync'd
// appends and a truncation; dominated by the disk's sync latency.
func BenchmarkFilePutAck(b *testing.B) {
	o, err := outbox.OpenFile(filepath.Join(b.TempDir(), "outbox"), outbox.FileConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	e := entry(1)
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Put(e); err != nil {
			b.Fatal(err)
		}
		if err := o.Ack(o.Pending()[0].Seq); err != nil {
			b.Fatal(err)
		}
	}
}
