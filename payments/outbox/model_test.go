package outbox_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/payments/outbox"
)

// fileModel drives a File outbox against a plain list, with crashes
// (abandon and reopen) among the actions.
type fileModel struct {
	path  string
	o     *outbox.File
	max   int
	model []outbox.Item // pending, oldest first
	open  []*outbox.File
}

func (m *fileModel) reopen(t *rapid.T) {
	o, err := outbox.OpenFile(m.path, outbox.FileConfig{Config: outbox.Config{MaxEntries: m.max}, CompactBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	m.o = o
	m.open = append(m.open, o)
}

func (m *fileModel) put(t *rapid.T) {
	id := fmt.Sprintf("pay-%d", rapid.IntRange(0, 30).Draw(t, "id"))
	e := entry(0)
	e.PaymentID = id
	err := m.o.Put(e)
	for _, it := range m.model {
		if it.Entry.PaymentID == id {
			if err != nil {
				t.Fatalf("re-put of pending %s: %v", id, err)
			}
			return
		}
	}
	if len(m.model) >= m.max {
		if err == nil {
			t.Fatalf("put beyond %d entries accepted", m.max)
		}
		return
	}
	if err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
	p := m.o.Pending()
	m.model = append(m.model, p[len(p)-1])
}

func (m *fileModel) ack(t *rapid.T) {
	if len(m.model) == 0 {
		t.Skip("nothing pending")
	}
	i := rapid.IntRange(0, len(m.model)-1).Draw(t, "index")
	if err := m.o.Ack(m.model[i].Seq); err != nil {
		t.Fatal(err)
	}
	m.model = append(m.model[:i], m.model[i+1:]...)
}

func (m *fileModel) crash(t *rapid.T) { m.reopen(t) } // the old handle is abandoned, never closed

func (m *fileModel) check(t *rapid.T) {
	got := m.o.Pending()
	if len(got) != len(m.model) {
		t.Fatalf("pending %v, model %v", ids(got), ids(m.model))
	}
	for i := range got {
		if got[i].Seq != m.model[i].Seq || got[i].Entry.PaymentID != m.model[i].Entry.PaymentID {
			t.Fatalf("pending %v, model %v", ids(got), ids(m.model))
		}
	}
}

func TestFileModel(t *testing.T) {
	dir := t.TempDir()
	run := 0
	rapid.Check(t, func(t *rapid.T) {
		run++
		m := &fileModel{path: filepath.Join(dir, fmt.Sprintf("outbox-%d", run)), max: rapid.IntRange(1, 8).Draw(t, "max")}
		m.reopen(t)
		defer func() {
			for _, o := range m.open {
				_ = o.Close()
			}
			_ = os.Remove(m.path)
		}()
		t.Repeat(map[string]func(*rapid.T){
			"":      m.check,
			"put":   m.put,
			"ack":   m.ack,
			"crash": m.crash,
		})
	})
}

// TestFileConcurrentBurst: puts and acks from many goroutines at once leave
// a pending list that is bounded, free of duplicate payments, ordered by
// sequence, and identical after a crash and reopen.
func TestFileConcurrentBurst(t *testing.T) {
	dir := t.TempDir()
	run := 0
	rapid.Check(t, func(t *rapid.T) {
		run++
		path := filepath.Join(dir, fmt.Sprintf("burst-%d", run))
		max := rapid.IntRange(1, 10).Draw(t, "max")
		o, err := outbox.OpenFile(path, outbox.FileConfig{Config: outbox.Config{MaxEntries: max}, CompactBytes: 512})
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		putIDs := rapid.SliceOfN(rapid.IntRange(0, 12), 1, 24).Draw(t, "puts")
		ackSeqs := rapid.SliceOfN(rapid.Uint64Range(1, 24), 0, 24).Draw(t, "acks")

		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, id := range putIDs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				e := entry(0)
				e.PaymentID = fmt.Sprintf("pay-%d", id)
				if err := o.Put(e); err != nil && !errors.Is(err, outbox.ErrFull) {
					t.Error(err)
				}
			}()
		}
		for _, seq := range ackSeqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := o.Ack(seq); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()

		got := o.Pending()
		if len(got) > max {
			t.Fatalf("%d pending, max %d", len(got), max)
		}
		seen := map[string]bool{}
		for i, it := range got {
			if seen[it.Entry.PaymentID] || (i > 0 && got[i-1].Seq >= it.Seq) {
				t.Fatalf("duplicate or disorder in %v", ids(got))
			}
			seen[it.Entry.PaymentID] = true
		}
		again, err := outbox.OpenFile(path, outbox.FileConfig{Config: outbox.Config{MaxEntries: max}})
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if fmt.Sprint(again.Pending()) != fmt.Sprint(got) {
			t.Fatalf("after reopen %v, before %v", ids(again.Pending()), ids(got))
		}
	})
}
