package sqlguard

import (
	"context"
	"database/sql/driver"
)

// stmt is a guarded prepared statement. Its Exec and Query are guarded
// like the connection's; it implements StmtExecContext, StmtQueryContext
// and NamedValueChecker whatever the driver's statement does (their absence
// is reproduced exactly), and ColumnConverter exactly when the driver's
// statement does, since database/sql changes its argument checks by its
// mere presence.
type stmt struct {
	s driver.Stmt
	c *conn
}

func wrapStmt(s driver.Stmt, c *conn) driver.Stmt {
	base := &stmt{s: s, c: c}
	//lint:ignore SA1019 kept as the driver offers it
	if _, ok := s.(driver.ColumnConverter); ok {
		return stmtConverter{base}
	}
	return base
}

// Close closes the driver's statement, unguarded.
func (s *stmt) Close() error { return s.s.Close() }

// NumInput is the driver's.
func (s *stmt) NumInput() int { return s.s.NumInput() }

// Exec is ExecContext without a context.
//
// Deprecated: database/sql calls ExecContext.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

// Query is QueryContext without a context.
//
// Deprecated: database/sql calls QueryContext.
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

// ExecContext runs the statement through the connection's guards.
func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	var res driver.Result
	err := s.c.call(ctx, retryStatement, func(ctx context.Context) error {
		var err error
		res, err = stmtExec(ctx, s.s, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// QueryContext runs the statement through the connection's guards.
func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.query(ctx, func(ctx context.Context) (driver.Rows, error) { return stmtQuery(ctx, s.s, args) })
}

// CheckNamedValue defers to the statement's checker, then the
// connection's, as database/sql would look for them.
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := s.s.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return s.c.CheckNamedValue(nv)
}

func stmtExec(ctx context.Context, s driver.Stmt, args []driver.NamedValue) (driver.Result, error) {
	if ec, ok := s.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the driver offers nothing newer
	return s.Exec(vals)
}

func stmtQuery(ctx context.Context, s driver.Stmt, args []driver.NamedValue) (driver.Rows, error) {
	if qc, ok := s.(driver.StmtQueryContext); ok {
		return qc.QueryContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the driver offers nothing newer
	return s.Query(vals)
}

// stmtConverter is a stmt whose driver statement converts its own columns.
type stmtConverter struct{ *stmt }

// ColumnConverter is the driver's.
func (s stmtConverter) ColumnConverter(idx int) driver.ValueConverter {
	//lint:ignore SA1019 kept as the driver offers it
	return s.s.(driver.ColumnConverter).ColumnConverter(idx)
}
