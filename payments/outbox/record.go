package outbox

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"

	"github.com/riprap-go/riprap/payments"
)

// On disk, the outbox is a sequence of records, each
//
//	length  uint32 (little endian): bytes of the payload
//	crc     uint32: CRC-32C (Castagnoli) of the payload
//	payload type (1 byte) | seq (8 bytes, little endian) | body
//
// where a put record's body is the entry's JSON and an ack record has no
// body. Records are only ever appended, and each append is fsync'd before
// Put or Ack returns, so after a crash at most the last record is torn: its
// length runs past the end of the file or its checksum fails.
const (
	recPut byte = 1
	recAck byte = 2

	headerLen = 8
	minRecord = 1 + 8
	// maxPayload bounds a record so that a corrupt length cannot make
	// recovery allocate gigabytes.
	maxPayload = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type record struct {
	typ  byte
	seq  uint64
	body []byte
}

func encodeRecord(typ byte, seq uint64, body []byte) []byte {
	buf := make([]byte, headerLen+minRecord+len(body))
	p := buf[headerLen:]
	p[0] = typ
	binary.LittleEndian.PutUint64(p[1:9], seq)
	copy(p[9:], body)
	binary.LittleEndian.PutUint32(buf[0:4], uint32(len(p)))
	binary.LittleEndian.PutUint32(buf[4:8], crc32.Checksum(p, castagnoli))
	return buf
}

func encodePut(seq uint64, e payments.Entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if minRecord+len(body) > maxPayload {
		return nil, ErrTooLarge
	}
	return encodeRecord(recPut, seq, body), nil
}

// nextRecord decodes the record at the start of data and its size on disk;
// ok is false when data does not start with a whole, intact record.
func nextRecord(data []byte) (r record, size int, ok bool) {
	if len(data) < headerLen {
		return record{}, 0, false
	}
	n := int(binary.LittleEndian.Uint32(data[0:4]))
	if n < minRecord || n > maxPayload || len(data)-headerLen < n {
		return record{}, 0, false
	}
	p := data[headerLen : headerLen+n]
	if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(data[4:8]) {
		return record{}, 0, false
	}
	r = record{typ: p[0], seq: binary.LittleEndian.Uint64(p[1:9]), body: p[9:]}
	if (r.typ != recPut && r.typ != recAck) || (r.typ == recAck && len(r.body) != 0) || r.seq == 0 {
		return record{}, 0, false
	}
	return r, headerLen + n, true
}
