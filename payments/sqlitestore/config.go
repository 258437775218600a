package sqlitestore

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// Sync is how hard a commit waits for the disk: SQLite's synchronous
// setting, in WAL mode.
type Sync uint8

const (
	// SyncFull (synchronous=FULL, the default) fsyncs the write-ahead log
	// at every commit: a transaction that committed survives a power loss
	// or a kernel crash, not only a killed process. One fsync per batch of
	// writes (see Config.MaxBatch).
	SyncFull Sync = iota
	// SyncNormal (synchronous=NORMAL) fsyncs only when the log is
	// checkpointed into the database. A commit survives the process being
	// killed (its pages are in the operating system's cache), and the file
	// stays consistent whatever happens; but a power loss or a kernel crash
	// can roll back the transactions committed since the last checkpoint —
	// payments reported succeeded whose ledger record and log entry are
	// then gone. Faster; choose it only where the host's own durability
	// (a battery-backed cache, a replicated disk) makes up for it.
	SyncNormal
)

// String returns "FULL" or "NORMAL", as in the pragma.
func (s Sync) String() string {
	if s == SyncNormal {
		return "NORMAL"
	}
	return "FULL"
}

// Defaults of a [Config].
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultMaxBatch    = 128
	DefaultReaders     = 4
	// DefaultHeadroom is the share of MaxBytes kept free for finishing the
	// payments already claimed: claims are refused past 1-DefaultHeadroom.
	DefaultHeadroom = 0.1
)

// Config configures a [Store]. The zero value is ready to use: the
// store's defaults, synchronous=FULL, no size limit, no guards.
type Config struct {
	// Store bounds the outbox (MaxOutbox, FullRetryAfter).
	Store store.Config
	// Name names the store in rejections; empty means the file's name.
	Name string
	// Sync is the durability of a commit; see [SyncFull] and [SyncNormal].
	Sync Sync
	// BusyTimeout is how long a write waits for another process holding
	// the database's lock before failing with SQLITE_BUSY; 0 means
	// DefaultBusyTimeout.
	BusyTimeout time.Duration
	// MaxBytes, when positive, caps the database file (SQLite's
	// max_page_count). New claims are refused with store.ErrFull once the
	// file is within Headroom of the cap, so that payments already claimed
	// can still be finished: a full database is a refusal before the bank
	// is called, not a settled payment that cannot be recorded.
	MaxBytes int64
	// Headroom is the share of MaxBytes kept for finishing claimed
	// payments, in [0, 1); 0 means DefaultHeadroom.
	Headroom float64
	// MaxBatch bounds the writes committed together (one fsync) when
	// callers write at once; 0 means DefaultMaxBatch, 1 commits each
	// write alone.
	MaxBatch int
	// Readers bounds the read-only connections; 0 means DefaultReaders.
	Readers int
	// Guards run around every call to the database, through
	// resilience/sqlguard: a breaker, a timeout. Nil guards nothing.
	Guards []resilience.Guard
	// Retry, when set, repeats calls SQLite refused because another
	// process held a lock (see [Retryable]) and could safely run again.
	Retry resilience.Guard
}

func (c Config) resolve() (Config, error) {
	sc, err := c.Store.Resolve("sqlitestore")
	if err != nil {
		return c, err
	}
	c.Store = sc
	bad := func(field, rule string, v any) (Config, error) {
		return c, &resilience.ConfigError{Component: "sqlitestore", Name: c.Name, Field: field, Rule: rule, Value: v}
	}
	switch {
	case c.Sync > SyncNormal:
		return bad("Sync", "must be SyncFull or SyncNormal", int(c.Sync))
	case c.BusyTimeout < 0:
		return bad("BusyTimeout", "must not be negative", c.BusyTimeout)
	case c.MaxBytes < 0:
		return bad("MaxBytes", "must not be negative", c.MaxBytes)
	case c.Headroom < 0 || c.Headroom >= 1:
		return bad("Headroom", "must be in [0, 1)", c.Headroom)
	case c.MaxBatch < 0:
		return bad("MaxBatch", "must not be negative", c.MaxBatch)
	case c.Readers < 0:
		return bad("Readers", "must not be negative", c.Readers)
	}
	c.BusyTimeout = cmpOr(c.BusyTimeout, DefaultBusyTimeout)
	c.Headroom = cmpOr(c.Headroom, DefaultHeadroom)
	c.MaxBatch = cmpOr(c.MaxBatch, DefaultMaxBatch)
	c.Readers = cmpOr(c.Readers, DefaultReaders)
	return c, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// pageSize is the database's page size, fixed when it is created.
const pageSize = 4096

// dsn returns the modernc DSN of the database at path: WAL, the sync
// setting, the busy timeout, foreign keys, BEGIN IMMEDIATE (a transaction
// takes the write lock when it starts, so two never deadlock upgrading a
// read lock), and the size cap.
func (c Config) dsn(path string, readOnly bool) (string, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("%w: database path %q (empty, or with ? or #)", store.ErrInvalid, path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", c.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+c.Sync.String()+")")
	if c.MaxBytes > 0 {
		q.Add("_pragma", fmt.Sprintf("max_page_count(%d)", max(c.MaxBytes/pageSize, 1)))
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode(), nil
}
