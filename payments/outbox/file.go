package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/riprap-go/riprap/payments"
)

// DefaultCompactBytes is FileConfig.CompactBytes when zero.
const DefaultCompactBytes = 1 << 20

// FileConfig configures a [File] outbox. The zero value is ready to use.
type FileConfig struct {
	Config
	// CompactBytes: once the file is larger than this and more than half
	// of it is acknowledged records, an Ack rewrites it with only the
	// pending entries. 0 means DefaultCompactBytes. (When nothing is
	// pending, an Ack empties the file whatever its size.)
	CompactBytes int64
}

// Recovery reports what [OpenFile] found in an existing file. It is plain
// data; the zero value means a clean, empty file.
type Recovery struct {
	Pending        int   // entries loaded as pending
	TruncatedBytes int64 // bytes of a torn or corrupt tail, cut off
}

// File is a durable [Outbox]: an append-only file of checksummed put and
// ack records, each fsync'd before Put or Ack returns. After a crash (the
// process dies without Close), [OpenFile] replays the records: entries put
// and not acknowledged are pending again, in their original order and with
// their original sequence numbers, and an acknowledged entry never comes
// back. A torn or corrupt record at the tail — what a crash during an append
// leaves — is detected by its length or CRC-32C and cut off; anything after
// a corrupt record is cut off with it, as it cannot be trusted.
//
// One process at a time may open a given file. Build a File with
// [OpenFile]; it is safe for concurrent use.
type File struct {
	path      string
	dir       string
	max       int
	compactAt int64
	recovery  Recovery

	mu     sync.Mutex // protects everything below, and the file itself
	f      *os.File
	items  []Item // pending, by ascending Seq
	ids    map[string]struct{}
	sizes  map[uint64]int64 // on-disk size of each pending put record
	next   uint64
	size   int64 // bytes in the file
	live   int64 // bytes of pending put records
	closed bool
	broken error // set when the file may hold a partial record we could not remove
}

// OpenFile opens or creates the outbox file at path and replays it.
func OpenFile(path string, cfg FileConfig) (*File, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if cfg.CompactBytes < 0 {
		return nil, fmt.Errorf("outbox: CompactBytes must be >= 0, got %d", cfg.CompactBytes)
	}
	if cfg.CompactBytes == 0 {
		cfg.CompactBytes = DefaultCompactBytes
	}
	o := &File{path: path, dir: filepath.Dir(path), max: cfg.MaxEntries, compactAt: cfg.CompactBytes,
		ids: make(map[string]struct{}), sizes: make(map[uint64]int64), next: 1}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o.f = f
	if errors.Is(statErr, fs.ErrNotExist) {
		err = syncDir(o.dir) // make the new name itself durable
	}
	if err == nil {
		err = o.replay()
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	o.recovery.Pending = len(o.items)
	return o, nil
}

// replay rebuilds the pending list from the file and cuts off a bad tail.
func (o *File) replay() error {
	data, err := os.ReadFile(o.path)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	off := 0
	for off < len(data) {
		r, n, ok := nextRecord(data[off:])
		if ok && r.typ == recPut {
			ok = o.loadPut(r, int64(n))
		}
		if !ok {
			break
		}
		if r.typ == recAck {
			o.remove(r.seq)
		}
		off += n
	}
	o.size = int64(off)
	if off < len(data) {
		o.recovery.TruncatedBytes = int64(len(data) - off)
		if err := o.f.Truncate(int64(off)); err != nil {
			return fmt.Errorf("outbox: cut torn tail: %w", err)
		}
		if err := o.f.Sync(); err != nil {
			return fmt.Errorf("outbox: cut torn tail: %w", err)
		}
	}
	return nil
}

// loadPut adds a replayed put record; false when it cannot be one we wrote.
func (o *File) loadPut(r record, size int64) bool {
	var e payments.Entry
	if r.seq < o.next || json.Unmarshal(r.body, &e) != nil {
		return false
	}
	o.add(Item{Seq: r.seq, Entry: e}, size)
	return true
}

func (o *File) add(it Item, size int64) {
	o.items = append(o.items, it)
	o.ids[it.Entry.PaymentID] = struct{}{}
	o.sizes[it.Seq] = size
	o.live += size
	o.next = it.Seq + 1
}

func (o *File) remove(seq uint64) {
	i, ok := findSeq(o.items, seq)
	if !ok {
		return
	}
	delete(o.ids, o.items[i].Entry.PaymentID)
	o.live -= o.sizes[seq]
	delete(o.sizes, seq)
	o.items = slices.Delete(o.items, i, i+1)
}

// Recovery reports what OpenFile found.
func (o *File) Recovery() Recovery { return o.recovery }

// Put implements [Outbox]; the entry is on disk when it returns nil.
func (o *File) Put(e payments.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.closed:
		return ErrClosed
	case hasID(o.ids, e.PaymentID):
		return nil
	case len(o.items) >= o.max:
		return fmt.Errorf("%w: %d entries pending", ErrFull, len(o.items))
	}
	rec, err := encodePut(o.next, e)
	if err != nil {
		return fmt.Errorf("outbox: encode %q: %w", e.PaymentID, err)
	}
	if err := o.append(rec); err != nil {
		return err
	}
	o.add(Item{Seq: o.next, Entry: e}, int64(len(rec)))
	return nil
}

// Ack implements [Outbox]; the acknowledgement is on disk when it returns
// nil, so the entry never replays after a crash.
func (o *File) Ack(seq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	if _, ok := o.sizes[seq]; !ok {
		return nil
	}
	if err := o.append(encodeRecord(recAck, seq, nil)); err != nil {
		return err
	}
	o.remove(seq)
	return o.maybeCompact()
}

// append writes rec at the end of the file and syncs it. On failure it cuts
// the file back, so that a partial record cannot hide later ones.
func (o *File) append(rec []byte) error {
	if o.broken != nil {
		return o.broken
	}
	_, err := o.f.Write(rec)
	if err == nil {
		err = o.f.Sync()
	}
	if err != nil {
		if terr := o.f.Truncate(o.size); terr != nil {
			o.broken = fmt.Errorf("outbox: unusable after a failed write: %w", errors.Join(err, terr))
		}
		return fmt.Errorf("outbox: append: %w", err)
	}
	o.size += int64(len(rec))
	return nil
}

// Pending implements [Outbox].
func (o *File) Pending() []Item {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.items)
}

// Len implements [Outbox].
func (o *File) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// Size returns the file's size in bytes.
func (o *File) Size() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.size
}

// Close implements [Outbox]. Entries are already durable; Close only
// releases the file.
func (o *File) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	o.closed = true
	return o.f.Close()
}

var _ Outbox = (*File)(nil)
