package sqlitestore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
)

const (
	fuzzPayments = 24
	fuzzMarker   = 999 // the last write: a torn log may lose it
)

var (
	fuzzOnce sync.Once
	fuzzSeed string // a store's files as a crash left them
	fuzzErr  error
)

// seedFiles builds, once, a store whose first payments were checkpointed
// into the file and the rest are only in the write-ahead log, then a last
// write (the marker), and copies its files mid-run without the -shm, so
// that Open runs SQLite's log recovery.
func seedFiles(t testing.TB) string {
	fuzzOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sqlitestore-fuzz-")
		if err != nil {
			fuzzErr = err
			return
		}
		fuzzSeed, fuzzErr = buildSeed(t, dir)
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzSeed
}

func buildSeed(t testing.TB, dir string) (string, error) {
	live := filepath.Join(dir, "live.db")
	s, err := sqlitestore.Open(live, sqlitestore.Config{})
	if err != nil {
		return "", err
	}
	defer s.Close()
	for i := range fuzzPayments {
		pay(t, s, i)
		if i == fuzzPayments/2 {
			db, err := openRaw(live)
			if err != nil {
				return "", err
			}
			_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
			_ = db.Close()
			if err != nil {
				return "", err
			}
		}
	}
	if _, err := s.Claim(ctx, request(fuzzMarker), lease("gw")); err != nil {
		return "", err
	}
	seed := filepath.Join(dir, "seed.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(live + suffix)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(seed+suffix, b, 0o600); err != nil {
			return "", err
		}
	}
	return seed, nil
}

// FuzzOpen damages a crashed store's files — a flipped byte, a run of
// garbage, a truncation, in the database or its log — and opens it. Open
// must never panic; it either refuses with an error naming the file, or
// opens a store that lists the damage it found, or opens a store in which
// nothing is missing: after a flip, every payment but the last write's;
// after a truncation (which looks like a crash), a prefix of the payments
// in the order they were written — never a hole.
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, target, kind byte, offset uint32, value byte) {
		seed := seedFiles(t)
		path := filepath.Join(t.TempDir(), "fuzz.db")
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(seed + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if (target%2 == 1) == (suffix == "-wal") {
				b = damage(b, kind, offset, value)
			}
			if err := os.WriteFile(path+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s, err := sqlitestore.Open(path, sqlitestore.Config{})
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		defer s.Close()
		checkNothingSilentlyLost(t, s, kind%3 == 2)
	})
}

// damage flips a byte (kind 0), writes a run of value (kind 1), or
// truncates (kind 2) b at offset.
func damage(b []byte, kind byte, offset uint32, value byte) []byte {
	if len(b) == 0 {
		return b
	}
	off := int(offset % uint32(len(b)))
	switch kind % 3 {
	case 0:
		b[off] ^= value | 1
	case 1:
		for i := off; i < min(off+64, len(b)); i++ {
			b[i] = value
		}
	default:
		b = b[:off]
	}
	return b
}

func checkNothingSilentlyLost(t *testing.T, s store.Store, truncated bool) {
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) > 0 {
		return // damage found and reported
	}
	missing := -1
	for i := range fuzzPayments {
		rec, err := s.Lookup(ctx, request(i).IdempotencyKey)
		switch {
		case errors.Is(err, store.ErrDamaged):
			return // reported
		case errors.Is(err, store.ErrNotFound) && truncated:
			if missing < 0 {
				missing = i
			}
			continue
		case err != nil:
			t.Fatalf("payment %d: %v (nothing reported)", i, err)
		case rec.Request != request(i):
			t.Fatalf("payment %d changed silently: %+v", i, rec.Request)
		case missing >= 0:
			t.Fatalf("payment %d is missing but %d, written after it, is there: a hole", missing, i)
		case rec.Result.State != store.Succeeded && !truncated:
			t.Fatalf("payment %d is %q, not succeeded, and nothing was reported", i, rec.Result.State)
		}
	}
}
