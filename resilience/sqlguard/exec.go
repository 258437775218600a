package sqlguard

import (
	"context"
	"database/sql/driver"
	"errors"
)

// ExecContext runs a statement through the guards. A driver whose
// connection cannot execute directly gets driver.ErrSkip without a guard
// being asked, and database/sql prepares the statement instead, as it would
// unwrapped.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ec, withCtx := c.c.(driver.ExecerContext)
	//lint:ignore SA1019 honoured as database/sql honours it
	legacy, ok := c.c.(driver.Execer)
	if !withCtx && !ok {
		return nil, driver.ErrSkip
	}
	var res driver.Result
	err := c.call(ctx, retryStatement, func(ctx context.Context) error {
		var err error
		if withCtx {
			res, err = ec.ExecContext(ctx, query, args)
		} else {
			res, err = execLegacy(ctx, legacy, query, args)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// QueryContext runs a query through the guards; see lasting for the
// context its rows keep.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	qc, withCtx := c.c.(driver.QueryerContext)
	//lint:ignore SA1019 honoured as database/sql honours it
	legacy, ok := c.c.(driver.Queryer)
	if !withCtx && !ok {
		return nil, driver.ErrSkip
	}
	return c.query(ctx, func(ctx context.Context) (driver.Rows, error) {
		if withCtx {
			return qc.QueryContext(ctx, query, args)
		}
		return queryLegacy(ctx, legacy, query, args)
	})
}

// query runs q, which opens rows, through the guards, and hands the rows a
// context that outlives the guards' (see lasting).
func (c *conn) query(ctx context.Context, q func(context.Context) (driver.Rows, error)) (driver.Rows, error) {
	var (
		rows driver.Rows
		h    *hold
	)
	err := c.call(ctx, retryStatement, func(ictx context.Context) error {
		lctx, lh := lasting(ictx, ctx)
		r, err := q(lctx)
		lh.returned()
		if err != nil {
			lh.release()
			return err
		}
		rows, h = r, lh
		return nil
	})
	if err != nil {
		if rows != nil { // a guard failed a query that worked
			_ = rows.Close()
			h.release()
		}
		return nil, err
	}
	return wrapRows(rows, h), nil
}

//lint:ignore SA1019 legacy driver
func execLegacy(ctx context.Context, e driver.Execer, query string, args []driver.NamedValue) (driver.Result, error) {
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.Exec(query, vals)
}

//lint:ignore SA1019 legacy driver
func queryLegacy(ctx context.Context, q driver.Queryer, query string, args []driver.NamedValue) (driver.Rows, error) {
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return q.Query(query, vals)
}

// values converts arguments for a driver without context methods, which
// cannot take named ones; the error is database/sql's own.
func values(args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("sql: driver does not support the use of Named Parameters")
		}
		vals[i] = a.Value
	}
	return vals, nil
}

func named(vals []driver.Value) []driver.NamedValue {
	args := make([]driver.NamedValue, len(vals))
	for i, v := range vals {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return args
}
