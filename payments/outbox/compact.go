package outbox

import (
	"fmt"
	"os"
)

// maybeCompact shrinks the file after an Ack: to nothing when no entry is
// pending, or to the pending entries when acknowledged records fill most of
// a large file. Runs under o.mu.
func (o *File) maybeCompact() error {
	if len(o.items) == 0 {
		return o.truncateAll()
	}
	if o.size > o.compactAt && o.size > 2*o.live {
		return o.compact()
	}
	return nil
}

// truncateAll empties the file. A crash before the truncation is durable
// leaves the old records, whose puts and acks still cancel out.
func (o *File) truncateAll() error {
	if o.size == 0 {
		return nil
	}
	if err := o.f.Truncate(0); err != nil {
		return fmt.Errorf("outbox: truncate: %w", err)
	}
	// The file is empty now, durable or not: a later failed append must cut
	// back to 0, not to the old size (which would pad it with zeros that hide
	// every record after them).
	o.size = 0
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("outbox: truncate: %w", err)
	}
	return nil
}

// Compact rewrites the file with only the pending entries, keeping their
// sequence numbers. It writes a new file, syncs it, and renames it over the
// old one, so a crash leaves either the old file or the new one, both
// complete. Acks compact on their own when worthwhile; call Compact to force
// it, say before a backup.
func (o *File) Compact() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	if len(o.items) == 0 {
		return o.truncateAll()
	}
	return o.compact()
}

// compact implements Compact; it runs under o.mu.
func (o *File) compact() error {
	tmp := o.path + ".compact"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("outbox: compact: %w", err)
	}
	size, err := o.writePending(f)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, o.path)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox: compact: %w", err)
	}
	_ = o.f.Close()
	o.f, o.size = f, size
	if err := syncDir(o.dir); err != nil {
		// The rename may not survive a crash, and records appended to the
		// new file would go with it: refuse further writes rather than
		// risk them (the gateway keeps refused entries in memory).
		o.broken = fmt.Errorf("outbox: unusable: the directory sync after compaction failed: %w", err)
		return o.broken
	}
	return nil
}

func (o *File) writePending(f *os.File) (int64, error) {
	var size int64
	for _, it := range o.items {
		rec, err := encodePut(it.Seq, it.Entry)
		if err != nil {
			return 0, err
		}
		if _, err := f.Write(rec); err != nil {
			return 0, err
		}
		size += int64(len(rec))
	}
	return size, nil
}

// syncDir makes a directory's entries (a created or renamed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
