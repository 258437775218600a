package sqlguard

import (
	"context"
	"database/sql/driver"
	"errors"
)

// conn is a guarded connection. It implements every optional interface
// whose absence database/sql handles in a way that can be reproduced
// exactly (ExecerContext and QueryerContext by returning driver.ErrSkip,
// Pinger by doing nothing, …); SessionResetter and Validator change what
// database/sql does merely by being there, so wrapConn picks a type that
// has them exactly when the driver's connection does.
type conn struct {
	c driver.Conn
	g *guards

	// sem, a channel of capacity one, is held while a call of this
	// connection runs in the driver. A channel rather than a sync.Mutex:
	// a goroutine waiting on it counts as durably blocked in a
	// testing/synctest bubble, so simulations driving a guarded database
	// on virtual time keep working.
	sem chan struct{}
	op  uint64 // protected by sem: the call whose attempts may reach the driver

	// inTx is set by BeginTx and cleared by Commit and Rollback. Those
	// calls never overlap: database/sql serialises a connection's calls.
	inTx bool
}

func wrapConn(c driver.Conn, g *guards) driver.Conn {
	base := &conn{c: c, g: g, sem: make(chan struct{}, 1)}
	_, resets := c.(driver.SessionResetter)
	_, validates := c.(driver.Validator)
	switch {
	case resets && validates:
		return connResetValidate{base, resetter{base}, validator{base}}
	case resets:
		return connReset{base, resetter{base}}
	case validates:
		return connValidate{base, validator{base}}
	}
	return base
}

// call runs fn, one call to the driver, through the guards. Attempts hold
// sem while in the driver, and an attempt that starts after call returned
// does nothing; call returns only once no attempt is in the driver, so
// database/sql gets the connection back exactly as idle as it expects, even
// from a guard that abandoned an attempt.
func (c *conn) call(ctx context.Context, rule retryRule, fn func(context.Context) error) error {
	if c.inTx {
		rule = retryNever
	}
	c.sem <- struct{}{}
	c.op++
	op := c.op
	<-c.sem
	err := c.g.run(ctx, rule, func(ctx context.Context) error {
		c.sem <- struct{}{}
		defer func() { <-c.sem }()
		if c.op != op {
			return errAbandoned
		}
		return fn(ctx)
	})
	c.sem <- struct{}{}
	c.op++
	<-c.sem
	return err
}

// Prepare is PrepareContext without a context.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext prepares through the guards, as database/sql would
// without ConnPrepareContext when the driver lacks it.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	err := c.call(ctx, retryEffectFree, func(ctx context.Context) error {
		s, err := prepare(ctx, c.c, query)
		if err == nil {
			st = s
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return wrapStmt(st, c), nil
}

func prepare(ctx context.Context, c driver.Conn, query string) (driver.Stmt, error) {
	if pc, ok := c.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, query)
	}
	s, err := c.Prepare(query)
	if err == nil && ctx.Err() != nil {
		_ = s.Close()
		return nil, ctx.Err()
	}
	return s, err
}

// Unwrap returns the driver's own connection, for code that reaches it
// through sql.Conn.Raw to call driver-specific methods (which then run
// unguarded).
func (c *conn) Unwrap() driver.Conn { return c.c }

// Close closes the driver's connection, unguarded.
func (c *conn) Close() error { return c.c.Close() }

// Begin is BeginTx with default options.
//
// Deprecated: database/sql calls BeginTx; Begin is here because
// driver.Conn requires it.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx starts a transaction through the guards. The driver's
// transaction keeps the caller's context, not the guards', for its
// lifetime (see lasting).
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var (
		dtx driver.Tx
		h   *hold
	)
	err := c.call(ctx, retryEffectFree, func(ictx context.Context) error {
		lctx, lh := lasting(ictx, ctx)
		t, err := begin(lctx, c.c, opts)
		lh.returned()
		if err != nil {
			lh.release()
			return err
		}
		dtx, h = t, lh
		return nil
	})
	if err != nil {
		if dtx != nil { // a guard failed a begin that worked: undo it
			_ = dtx.Rollback()
			h.release()
		}
		return nil, err
	}
	c.inTx = true
	return &tx{t: dtx, c: c, ctx: ctx, hold: h}, nil
}

// begin starts a transaction as database/sql does, refusing options a
// driver without ConnBeginTx cannot honour with database/sql's own words.
func begin(ctx context.Context, c driver.Conn, opts driver.TxOptions) (driver.Tx, error) {
	if bc, ok := c.(driver.ConnBeginTx); ok {
		return bc.BeginTx(ctx, opts)
	}
	switch {
	case opts.Isolation != driver.IsolationLevel(0):
		return nil, errors.New("sql: driver does not support non-default isolation level")
	case opts.ReadOnly:
		return nil, errors.New("sql: driver does not support read-only transactions")
	}
	//lint:ignore SA1019 the driver offers nothing newer
	t, err := c.Begin()
	if err == nil && ctx.Err() != nil {
		_ = t.Rollback()
		return nil, ctx.Err()
	}
	return t, err
}

// Ping pings through the guards; a driver without Pinger is not pinged,
// as database/sql would not ping it.
func (c *conn) Ping(ctx context.Context) error {
	p, ok := c.c.(driver.Pinger)
	if !ok {
		return nil
	}
	return c.call(ctx, retryEffectFree, p.Ping)
}

// CheckNamedValue defers to the driver's checker, or lets database/sql
// convert the value as it would without one.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := c.c.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// The variants of conn for the two interfaces whose mere presence matters
// to database/sql (it keeps a connection after a cancelled transaction's
// rollback only when it has both).
type (
	resetter  struct{ c *conn }
	validator struct{ c *conn }
	connReset struct {
		*conn
		resetter
	}
	connValidate struct {
		*conn
		validator
	}
	connResetValidate struct {
		*conn
		resetter
		validator
	}
)

// ResetSession is the driver's, unguarded: it runs before a pooled
// connection is reused, and a guard refusing it would only churn the pool.
func (r resetter) ResetSession(ctx context.Context) error {
	return r.c.c.(driver.SessionResetter).ResetSession(ctx)
}

// IsValid is the driver's.
func (v validator) IsValid() bool { return v.c.c.(driver.Validator).IsValid() }
