package sqlitestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/riprap-go/riprap/payments/store"
)

// SQLite's write-ahead log: a 32-byte header, then frames of a 24-byte
// header and one page. Each frame carries a running checksum of every
// frame before it, and the header's salts. SQLite's recovery replays the
// frames up to the first one whose salts or checksum do not match, and
// discards the rest: right for a torn tail (a frame being written when
// the process died), silent loss for damage in the middle, since every
// transaction committed after the damaged frame goes too.
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
	walMagicLE         = 0x377f0682
	walMagicBE         = 0x377f0683
)

// checkWAL refuses a log in which a damaged frame is followed by intact
// frames that end a committed transaction: those are transactions the
// database acknowledged, which SQLite would drop. A damaged or torn tail
// (nothing intact after the damage) is left to SQLite, as is a missing or
// empty log.
func checkWAL(path string) error {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case len(data) == 0:
		return nil
	}
	if len(data) < walHeaderSize {
		return nil // a log torn while its header was written holds nothing yet
	}
	w, ok := parseWALHeader(data)
	if !ok {
		if len(data) > walHeaderSize {
			return fmt.Errorf("%w: write-ahead log %s: damaged header with %d bytes of frames after it",
				store.ErrDamaged, path, len(data)-walHeaderSize)
		}
		return nil
	}
	bad, lost := w.scan(data)
	if lost > 0 {
		return fmt.Errorf("%w: write-ahead log %s: frame %d is damaged and %d committed transactions follow it; "+
			"SQLite would discard them, so the files are left untouched", store.ErrDamaged, path, bad, lost)
	}
	return nil
}

type walHeader struct {
	order        binary.ByteOrder
	pageSize     int
	salt1, salt2 uint32
	s1, s2       uint32 // the header's checksum: the seed of the first frame's
}

func parseWALHeader(data []byte) (walHeader, bool) {
	var w walHeader
	switch binary.BigEndian.Uint32(data[0:]) {
	case walMagicLE:
		w.order = binary.LittleEndian
	case walMagicBE:
		w.order = binary.BigEndian
	default:
		return w, false
	}
	ps := int(binary.BigEndian.Uint32(data[8:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return w, false
	}
	w.pageSize = ps
	w.salt1, w.salt2 = binary.BigEndian.Uint32(data[16:]), binary.BigEndian.Uint32(data[20:])
	s1, s2 := walChecksum(w.order, data[:24], 0, 0)
	if s1 != binary.BigEndian.Uint32(data[24:]) || s2 != binary.BigEndian.Uint32(data[28:]) {
		return w, false
	}
	w.s1, w.s2 = s1, s2
	return w, true
}

// scan walks the frames. It returns the index of the first damaged frame
// and how many commit frames after it are intact by their own checksum
// (seeded with the previous frame's stored one) and salts.
func (w walHeader) scan(data []byte) (bad, lost int) {
	frame := walFrameHeaderSize + w.pageSize
	s1, s2 := w.s1, w.s2
	bad = -1
	for i, off := 0, walHeaderSize; off+frame <= len(data); i, off = i+1, off+frame {
		f := data[off : off+frame]
		want1, want2 := binary.BigEndian.Uint32(f[16:]), binary.BigEndian.Uint32(f[20:])
		salted := binary.BigEndian.Uint32(f[8:]) == w.salt1 && binary.BigEndian.Uint32(f[12:]) == w.salt2
		c1, c2 := walChecksum(w.order, f[:8], s1, s2)
		c1, c2 = walChecksum(w.order, f[walFrameHeaderSize:], c1, c2)
		intact := salted && c1 == want1 && c2 == want2
		switch {
		case bad < 0 && !intact:
			bad = i
		case bad >= 0 && intact && binary.BigEndian.Uint32(f[4:]) != 0:
			lost++ // a commit frame SQLite will never reach
		}
		s1, s2 = want1, want2 // the next frame is seeded with this one's stored sum
	}
	if bad < 0 {
		return -1, 0
	}
	return bad, lost
}

// walChecksum is SQLite's WAL checksum: over 32-bit words in the log's
// byte order, two running sums each feeding the other.
func walChecksum(order binary.ByteOrder, b []byte, s1, s2 uint32) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s1 += order.Uint32(b[i:]) + s2
		s2 += order.Uint32(b[i+4:]) + s1
	}
	return s1, s2
}
