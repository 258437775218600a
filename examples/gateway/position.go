package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// position turns a byte offset of data into "line L, column C" (both from
// 1; columns count bytes, which is what editors show for the ASCII of a
// scenario file).
func position(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int64(len(before)-bytes.LastIndexByte(before, '\n')-1) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// locate finds where in data the value behind err (a *fieldError) is: the
// key of the deepest part of its path present in the file. Other errors,
// and paths not found, point at the start of the file.
func locate(data []byte, err error) string {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return position(data, 0)
	}
	offsets := keyOffsets(data)
	for p := fe.path; p != ""; p = parent(p) {
		if off, ok := offsets[p]; ok {
			return position(data, off)
		}
	}
	return position(data, 0)
}

// parent drops the last element of a path: "faults[1].start" → "faults[1]"
// → "faults" → "".
func parent(p string) string {
	if strings.HasSuffix(p, "]") {
		return p[:strings.LastIndexByte(p, '[')]
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// keyOffsets walks a JSON document already known to be valid and returns
// the offset where each path starts: the key of an object member, the
// first byte of an array element.
func keyOffsets(data []byte) map[string]int64 {
	out := make(map[string]int64)
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		path    string
		isArray bool
		index   int
		key     string // the member being read, in an object
		wantKey bool
	}
	var stack []*frame
	child := func() string { // path of the value about to be read
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.isArray {
			return fmt.Sprintf("%s[%d]", f.path, f.index)
		}
		if f.path == "" {
			return f.key
		}
		return f.path + "." + f.key
	}
	for {
		start := skipSpace(data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && !top.isArray && top.wantKey {
			if k, ok := tok.(string); ok {
				top.key, top.wantKey = k, false
				out[child()] = start
				continue
			}
		}
		if top != nil && top.isArray {
			if d, ok := tok.(json.Delim); !ok || d != ']' {
				out[child()] = start
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &frame{path: child(), isArray: tok == json.Delim('['), wantKey: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 { // a value (or a nested container) ended
			f := stack[len(stack)-1]
			if f.isArray {
				f.index++
			} else {
				f.wantKey = true
			}
		}
	}
}

// skipSpace moves past whitespace and the separators the decoder leaves
// before the next token.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}
