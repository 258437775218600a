package pgstore

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/resilience"
)

// Defaults of a [Config].
const (
	// DefaultSchema is the schema the store's tables live in, so that they
	// never collide with an application's own tables in the same database.
	DefaultSchema = "riprap"
	// DefaultMaxConns bounds the connections of one Store's pool.
	DefaultMaxConns = 8
	// DefaultIdleInTransactionTimeout is how long the server lets a session
	// sit idle inside a transaction before ending it; see
	// [Config.IdleInTransactionTimeout].
	DefaultIdleInTransactionTimeout = 30 * time.Second
	// DefaultName names the store in rejections.
	DefaultName = "postgres"
)

// Config configures a [Store]. Only DSN is required; every other zero
// value means the documented default.
type Config struct {
	// DSN is the database to connect to, as a URL
	// (postgres://user@host:5432/db?sslmode=disable) or a key=value string;
	// see github.com/jackc/pgx/v5's ParseConfig. Its search_path is
	// replaced by Schema.
	DSN string
	// Schema holds the store's tables; Open creates it when missing.
	// Empty means DefaultSchema. It must be a plain lower-case identifier
	// ([a-z_][a-z0-9_]*, at most 63 bytes), so it never needs quoting.
	Schema string
	// Store bounds the outbox (MaxOutbox, FullRetryAfter). Every instance
	// of a fleet checks the shared count against its own MaxOutbox: give
	// them the same.
	Store store.Config
	// Name names the store in rejections (store.ErrFull); empty means
	// DefaultName.
	Name string
	// MaxConns bounds the connections of the store's pool; 0 means
	// DefaultMaxConns.
	MaxConns int
	// IdleInTransactionTimeout makes the server end a session that sits
	// idle inside a transaction for longer (a process frozen or cut off
	// while holding a payment's row lock), so that the lock is released
	// and the rest of the fleet goes on; 0 means
	// DefaultIdleInTransactionTimeout. The store's own transactions never
	// sit idle: they run their statements back to back.
	IdleInTransactionTimeout time.Duration
	// Guards run around every call to the database, through
	// resilience/sqlguard: a breaker, a timeout, a bulkhead. Nil guards
	// nothing.
	Guards []resilience.Guard
	// Retry, when set, repeats calls PostgreSQL refused with a
	// serialization failure or a deadlock (see [Retryable]) where sqlguard
	// may safely repeat them. The store retries its own transactions on
	// those errors whatever Retry says.
	Retry resilience.Guard
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// resolve validates c and fills in its defaults, returning the parsed
// connection settings too.
func (c Config) resolve() (Config, *pgx.ConnConfig, error) {
	sc, err := c.Store.Resolve("pgstore")
	if err != nil {
		return c, nil, err
	}
	c.Store = sc
	c.Name = cmpOr(c.Name, DefaultName)
	c.Schema = cmpOr(c.Schema, DefaultSchema)
	bad := func(field, rule string, v any) (Config, *pgx.ConnConfig, error) {
		return c, nil, &resilience.ConfigError{Component: "pgstore", Name: c.Name, Field: field, Rule: rule, Value: v}
	}
	switch {
	case c.DSN == "":
		return bad("DSN", "must not be empty", c.DSN)
	case !schemaName.MatchString(c.Schema):
		return bad("Schema", "must match [a-z_][a-z0-9_]* and be at most 63 bytes", c.Schema)
	case c.MaxConns < 0:
		return bad("MaxConns", "must not be negative", c.MaxConns)
	case c.IdleInTransactionTimeout < 0:
		return bad("IdleInTransactionTimeout", "must not be negative", c.IdleInTransactionTimeout)
	}
	c.MaxConns = cmpOr(c.MaxConns, DefaultMaxConns)
	c.IdleInTransactionTimeout = cmpOr(c.IdleInTransactionTimeout, DefaultIdleInTransactionTimeout)
	cc, err := pgx.ParseConfig(c.DSN)
	if err != nil {
		// The value shown is the parser's message, never the DSN itself,
		// which may hold a password (pgx redacts it in its message).
		return bad("DSN", "must be a PostgreSQL connection string", err.Error())
	}
	cc.RuntimeParams["search_path"] = c.Schema
	cc.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(c.IdleInTransactionTimeout.Milliseconds(), 10)
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "riprap-pgstore"
	}
	return c, cc, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// String describes c without its DSN, which may hold a password.
func (c Config) String() string {
	return fmt.Sprintf("pgstore.Config{Schema: %q, Name: %q, MaxConns: %d}", c.Schema, c.Name, c.MaxConns)
}
