package outbox_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/outbox"
	"github.com/riprap-go/riprap/payments/sim"
)

func openFile(t *testing.T, path string, cfg outbox.FileConfig) *outbox.File {
	t.Helper()
	f, err := outbox.OpenFile(path, cfg)
	require.NoError(t, err)
	return f
}

// TestCrashAndReplay: entries survive a process that never closed the
// outbox, replay in order, and are delivered exactly once overall.
func TestCrashAndReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox")
	o := openFile(t, path, outbox.FileConfig{})
	for i := range 5 {
		require.NoError(t, o.Put(entry(i)))
	}
	log := sim.NewLog()
	first := o.Pending()[:2]
	for _, it := range first {
		require.NoError(t, log.Append(context.Background(), it.Entry))
		require.NoError(t, o.Ack(it.Seq))
	}
	want := o.Pending()
	// Crash: o is abandoned without Close.

	o2 := openFile(t, path, outbox.FileConfig{})
	defer o2.Close()
	got := o2.Pending()
	assert.Equal(t, []string{"pay-2", "pay-3", "pay-4"}, ids(got))
	for i := range got {
		assert.Equal(t, want[i].Seq, got[i].Seq)
		assert.True(t, want[i].Entry.Equal(got[i].Entry))
	}
	assert.Equal(t, outbox.Recovery{Pending: 3}, o2.Recovery())

	n, err := outbox.Drain(context.Background(), o2, log.Append)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, sim.LogStats{Appends: 5, Stored: 5}, log.Stats(), "no entry delivered twice")

	o3 := openFile(t, path, outbox.FileConfig{})
	defer o3.Close()
	assert.Equal(t, 0, o3.Len(), "acknowledged entries never come back")
	require.NoError(t, o3.Put(entry(7)))
	assert.Greater(t, o3.Pending()[0].Seq, uint64(0))
}

func TestTornTailIsCutOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox")
	o := openFile(t, path, outbox.FileConfig{})
	for i := range 3 {
		require.NoError(t, o.Put(entry(i)))
	}
	full := o.Size()
	require.NoError(t, o.Close())

	// A crash in the middle of a fourth append leaves its first bytes.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{200, 0, 0, 0, 1, 2, 3})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	o2 := openFile(t, path, outbox.FileConfig{})
	assert.Equal(t, outbox.Recovery{Pending: 3, TruncatedBytes: 7}, o2.Recovery())
	assert.Equal(t, full, o2.Size())
	require.NoError(t, o2.Put(entry(3)))
	require.NoError(t, o2.Close())

	o3 := openFile(t, path, outbox.FileConfig{})
	defer o3.Close()
	assert.Equal(t, []string{"pay-0", "pay-1", "pay-2", "pay-3"}, ids(o3.Pending()), "appends after recovery are not hidden by the torn record")
}

func TestCorruptLastRecordIsDetectedByChecksum(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox")
	o := openFile(t, path, outbox.FileConfig{})
	require.NoError(t, o.Put(entry(0)))
	before := o.Size()
	require.NoError(t, o.Put(entry(1)))
	require.NoError(t, o.Close())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[len(data)-3] ^= 0x40 // flip a bit inside the last record's JSON
	require.NoError(t, os.WriteFile(path, data, 0o600))

	o2 := openFile(t, path, outbox.FileConfig{})
	defer o2.Close()
	assert.Equal(t, []string{"pay-0"}, ids(o2.Pending()))
	assert.Equal(t, int64(len(data))-before, o2.Recovery().TruncatedBytes)
}

// TestEveryCrashPointRecoversAPrefix cuts the file at every byte, as a
// crash during any append could, and checks that reopening yields exactly
// the records that were whole.
func TestEveryCrashPointRecoversAPrefix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outbox")
	o := openFile(t, path, outbox.FileConfig{})
	var ends []int64 // file size after each put
	for i := range 4 {
		require.NoError(t, o.Put(entry(i)))
		ends = append(ends, o.Size())
	}
	require.NoError(t, o.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	cut := filepath.Join(dir, "cut")
	for n := 0; n <= len(data); n++ {
		require.NoError(t, os.WriteFile(cut, data[:n], 0o600))
		c := openFile(t, cut, outbox.FileConfig{})
		whole := 0
		for _, e := range ends {
			if int64(n) >= e {
				whole++
			}
		}
		if !assert.Equal(t, whole, c.Len(), "cut at byte %d", n) {
			require.NoError(t, c.Close())
			return
		}
		require.NoError(t, c.Close())
	}
}

func TestAckingEverythingEmptiesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox")
	o := openFile(t, path, outbox.FileConfig{})
	defer o.Close()
	for i := range 3 {
		require.NoError(t, o.Put(entry(i)))
	}
	_, err := outbox.Drain(context.Background(), o, func(context.Context, payments.Entry) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, int64(0), o.Size())
}

func TestCompactionKeepsPendingEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox")
	o := openFile(t, path, outbox.FileConfig{CompactBytes: 2048})
	for i := range 40 {
		require.NoError(t, o.Put(entry(i)))
	}
	sizeBefore := o.Size()
	items := o.Pending()
	for _, it := range items[:35] {
		require.NoError(t, o.Ack(it.Seq))
	}
	assert.Less(t, o.Size(), sizeBefore/3, "acknowledged records were compacted away")
	want := o.Pending()
	require.NoError(t, o.Put(entry(99)))
	// Crash without Close, then reopen.
	o2 := openFile(t, path, outbox.FileConfig{})
	defer o2.Close()
	got := o2.Pending()
	require.Len(t, got, len(want)+1)
	for i := range want {
		assert.Equal(t, want[i].Seq, got[i].Seq)
	}
	assert.Equal(t, "pay-99", got[len(got)-1].Entry.PaymentID)
	require.NoError(t, o.Close())
	require.NoError(t, o2.Compact())
	assert.Equal(t, len(got), o2.Len())
}
