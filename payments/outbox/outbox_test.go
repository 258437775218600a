package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/outbox"
)

func entry(i int) payments.Entry {
	return payments.Entry{
		PaymentID:  fmt.Sprintf("pay-%d", i),
		TransferID: fmt.Sprintf("tr_%d", i),
		Payer:      "acct_alice0001",
		Payee:      "acct_bob000002",
		Amount:     payments.New(int64(100+i), payments.USD),
		At:         time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func ids(items []outbox.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Entry.PaymentID)
	}
	return out
}

type opener func(t *testing.T, max int) outbox.Outbox

func implementations() map[string]opener {
	return map[string]opener{
		"memory": func(t *testing.T, max int) outbox.Outbox {
			m, err := outbox.NewMemory(outbox.Config{MaxEntries: max})
			require.NoError(t, err)
			return m
		},
		"file": func(t *testing.T, max int) outbox.Outbox {
			f, err := outbox.OpenFile(filepath.Join(t.TempDir(), "outbox"), outbox.FileConfig{Config: outbox.Config{MaxEntries: max}})
			require.NoError(t, err)
			return f
		},
	}
}

func TestContract(t *testing.T) {
	for name, open := range implementations() {
		t.Run(name, func(t *testing.T) {
			o := open(t, 3)
			for i := range 3 {
				require.NoError(t, o.Put(entry(i)))
			}
			require.NoError(t, o.Put(entry(1)), "a pending payment is queued once")
			assert.Equal(t, 3, o.Len())
			err := o.Put(entry(9))
			assert.ErrorIs(t, err, outbox.ErrFull)
			assert.Equal(t, []string{"pay-0", "pay-1", "pay-2"}, ids(o.Pending()))

			p := o.Pending()
			require.NoError(t, o.Ack(p[1].Seq))
			require.NoError(t, o.Ack(p[1].Seq), "acking twice does nothing")
			require.NoError(t, o.Ack(999))
			assert.Equal(t, []string{"pay-0", "pay-2"}, ids(o.Pending()))
			require.NoError(t, o.Put(entry(9)))
			got := o.Pending()
			assert.Equal(t, []string{"pay-0", "pay-2", "pay-9"}, ids(got))
			assert.Less(t, got[1].Seq, got[2].Seq, "sequence numbers grow")

			assert.ErrorIs(t, o.Put(payments.Entry{PaymentID: "pay-x"}), payments.ErrInvalidRequest)
			assert.Equal(t, 3, o.Len())

			require.NoError(t, o.Close())
			assert.ErrorIs(t, o.Put(entry(10)), outbox.ErrClosed)
			assert.ErrorIs(t, o.Ack(got[0].Seq), outbox.ErrClosed)
		})
	}
}

func TestDrainStopsAtFirstFailureAndKeepsOrder(t *testing.T) {
	for name, open := range implementations() {
		t.Run(name, func(t *testing.T) {
			o := open(t, 0)
			for i := range 5 {
				require.NoError(t, o.Put(entry(i)))
			}
			var sent []string
			boom := errors.New("log down")
			n, err := outbox.Drain(context.Background(), o, func(_ context.Context, e payments.Entry) error {
				if e.PaymentID == "pay-3" {
					return boom
				}
				sent = append(sent, e.PaymentID)
				return nil
			})
			assert.ErrorIs(t, err, boom)
			assert.Equal(t, 3, n)
			assert.Equal(t, []string{"pay-0", "pay-1", "pay-2"}, sent)
			assert.Equal(t, []string{"pay-3", "pay-4"}, ids(o.Pending()))

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			n, err = outbox.Drain(ctx, o, func(context.Context, payments.Entry) error { return nil })
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 0, n)
		})
	}
}

func TestConcurrentPutsRespectTheBound(t *testing.T) {
	for name, open := range implementations() {
		t.Run(name, func(t *testing.T) {
			const max, n = 20, 50
			o := open(t, max)
			start := make(chan struct{})
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = o.Put(entry(i))
				}()
			}
			close(start)
			wg.Wait()
			ok, full := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, outbox.ErrFull):
					full++
				default:
					t.Fatalf("unexpected error %v", err)
				}
			}
			assert.Equal(t, max, ok)
			assert.Equal(t, n-max, full)
			assert.Equal(t, max, o.Len())
		})
	}
}

func TestConfigIsValidated(t *testing.T) {
	_, err := outbox.NewMemory(outbox.Config{MaxEntries: -1})
	assert.ErrorContains(t, err, "outbox: MaxEntries must be >= 0, got -1")
	_, err = outbox.OpenFile(filepath.Join(t.TempDir(), "x"), outbox.FileConfig{CompactBytes: -1})
	assert.ErrorContains(t, err, "outbox: CompactBytes must be >= 0")
	_, err = outbox.OpenFile(filepath.Join(t.TempDir(), "missing-dir", "x"), outbox.FileConfig{})
	assert.ErrorContains(t, err, "outbox: ")
}
