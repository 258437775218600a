package sqlguard

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	"github.com/riprap-go/riprap/resilience"
)

// Config says which guards protect the database and how its errors are
// judged. The zero Config guards nothing: calls go straight to the driver.
type Config struct {
	// Guards run around every call that reaches the database, first
	// outermost: breakers, concurrency limits, timeouts, health gates. They
	// are shared by every connection of the pool, so a breaker sees the
	// database as a whole. A nil entry makes every guarded call fail with
	// [resilience.ErrNilPolicy].
	Guards []resilience.Guard
	// Retry, when set, runs outside Guards (so every attempt passes the
	// breaker) around the calls it may safely repeat; see the package doc.
	// It sees only errors that are worth retrying: any other error ends
	// the call at once, whatever the retry's own rules say.
	Retry resilience.Guard
	// Retryable reports whether an error means the database did not act on
	// the call and the same connection may run it again (SQLite's
	// SQLITE_BUSY, say). Nil means no statement error is retried; a failed
	// Connect is retried whatever Retryable says.
	Retryable func(err error) bool
	// Classify judges a driver's error for the guards. It may return
	// [resilience.Unclassified] to defer to [Classify], the default.
	Classify resilience.ErrorClassifier
}

// ErrNilConnector is returned by every Connect of a connector made by
// Wrap(nil, …), and by [Open] for a driver that gives none.
var ErrNilConnector = errors.New("sqlguard: nil driver.Connector")

// Wrap returns a connector whose connections run every call to the
// database through cfg's guards. Give it to [database/sql.OpenDB]:
//
//	db := sql.OpenDB(sqlguard.Wrap(connector, cfg))
//
// The connector is safe for concurrent use, as database/sql requires.
func Wrap(c driver.Connector, cfg Config) driver.Connector {
	return &connector{c: c, g: newGuards(cfg)}
}

// WrapDriver returns a driver whose connections are guarded as [Wrap]'s,
// for code that registers drivers by name ([database/sql.Register]). A nil
// d yields a driver whose Open fails with [ErrNilConnector].
func WrapDriver(d driver.Driver, cfg Config) driver.Driver {
	return &guardedDriver{d: d, g: newGuards(cfg)}
}

// Open opens a database with the registered driver driverName, as
// [database/sql.Open] does, and guards it with cfg. Like sql.Open it does
// not connect; the first call does, through the guards.
func Open(driverName, dsn string, cfg Config) (*sql.DB, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	d := probe.Driver()
	if err := probe.Close(); err != nil {
		return nil, err
	}
	c, err := connectorOf(d, dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(Wrap(c, cfg)), nil
}

// connectorOf returns d's connector for dsn, as database/sql would build it.
func connectorOf(d driver.Driver, dsn string) (driver.Connector, error) {
	if d == nil {
		return nil, ErrNilConnector
	}
	if dc, ok := d.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{d: d, dsn: dsn}, nil
}

// dsnConnector is the connector of a driver without DriverContext.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// connector guards Connect and wraps the connections it makes.
type connector struct {
	c driver.Connector
	g *guards
}

// Connect opens a connection through the guards; a failed attempt is
// retried (nothing was sent). A connection that an abandoned attempt opens
// after the call returned is closed, never leaked.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.c == nil {
		return nil, ErrNilConnector
	}
	op := &connectOp{}
	err := c.g.run(ctx, retryConnect, func(ctx context.Context) error {
		dc, err := c.c.Connect(ctx)
		return op.keep(dc, err)
	})
	dc := op.finish()
	if err != nil {
		if dc != nil {
			_ = dc.Close()
		}
		return nil, err
	}
	if dc == nil {
		return nil, ErrNilConnector
	}
	return wrapConn(dc, c.g), nil
}

// Driver returns the underlying driver, guarded.
func (c *connector) Driver() driver.Driver {
	var d driver.Driver
	if c.c != nil {
		d = c.c.Driver()
	}
	return &guardedDriver{d: d, g: c.g}
}

// connectOp is one Connect call: it keeps the connection of the attempt
// that succeeded and closes any that arrives after the call is over.
type connectOp struct {
	mu   sync.Mutex // protects over and conn
	over bool
	conn driver.Conn
}

func (o *connectOp) keep(dc driver.Conn, err error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err != nil:
		return err
	case o.over || o.conn != nil:
		if dc != nil {
			_ = dc.Close()
		}
		return errAbandoned
	}
	o.conn = dc
	return nil
}

func (o *connectOp) finish() driver.Conn {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.over = true
	return o.conn
}

// guardedDriver is a driver whose connections are guarded.
type guardedDriver struct {
	d driver.Driver
	g *guards
}

// Open connects through the guards, with no context to honour.
func (d *guardedDriver) Open(name string) (driver.Conn, error) {
	c, err := d.OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector returns a guarded connector for name, sharing d's guards.
func (d *guardedDriver) OpenConnector(name string) (driver.Connector, error) {
	c, err := connectorOf(d.d, name)
	if err != nil {
		return nil, err
	}
	return &connector{c: c, g: d.g}, nil
}
