package sqlguard

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
)

// errResultClosed ends the context of rows or a transaction once closed.
var errResultClosed = errors.New("sqlguard: rows or transaction closed")

// lasting returns the context for a driver call whose result outlives the
// call: rows, a transaction. A driver may keep that context for the
// result's lifetime (modernc's SQLite and pgx do for rows, lib/pq for a
// transaction), but the guards' context ends when the guards return — a
// timeout guard cancels its own on the way out — and would cut off rows the
// caller is still reading. So the context follows inner, the guards', until
// the driver call is back ([hold.returned]), then only outer, the caller's,
// until the result is closed ([hold.release]). It carries inner's values.
//
// When inner adds no cancellation of its own to outer, inner itself is
// returned, with a nil hold.
func lasting(inner, outer context.Context) (context.Context, *hold) {
	if inner.Done() == outer.Done() {
		return inner, nil
	}
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(inner))
	h := &hold{cancel: cancel}
	h.stopInner = context.AfterFunc(inner, func() { cancel(context.Cause(inner)) })
	h.stopOuter = context.AfterFunc(outer, func() { cancel(context.Cause(outer)) })
	if inner.Err() != nil { // AfterFunc would cancel later, on its own goroutine
		cancel(context.Cause(inner))
	}
	return ctx, h
}

// hold is the lasting context of one result. Its methods do nothing on a
// nil hold.
type hold struct {
	cancel               context.CancelCauseFunc
	stopInner, stopOuter func() bool
}

// returned detaches the context from the guards' once the call is back.
func (h *hold) returned() {
	if h != nil {
		h.stopInner()
	}
}

// release ends the context once the result is closed.
func (h *hold) release() {
	if h != nil {
		h.stopOuter()
		h.cancel(errResultClosed)
	}
}

// wrapRows returns r itself when there is no hold to release, and
// otherwise rows that release it on Close.
func wrapRows(r driver.Rows, h *hold) driver.Rows {
	if h == nil {
		return r
	}
	return &rows{Rows: r, hold: h}
}

// rows releases a lasting context on Close. It implements every optional
// Rows interface, answering for a driver that lacks one exactly what
// database/sql assumes without it.
type rows struct {
	driver.Rows
	hold *hold
}

// Close closes the driver's rows, then ends their context.
func (r *rows) Close() error {
	err := r.Rows.Close()
	r.hold.release()
	return err
}

// HasNextResultSet is the driver's, or false.
func (r *rows) HasNextResultSet() bool {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.HasNextResultSet()
	}
	return false
}

// NextResultSet is the driver's, or io.EOF: no further result set.
func (r *rows) NextResultSet() error {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.NextResultSet()
	}
	return io.EOF
}

// ColumnTypeScanType is the driver's, or any, as database/sql assumes.
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if c, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

// ColumnTypeDatabaseTypeName is the driver's, or "".
func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	if c, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeLength is the driver's, or unknown.
func (r *rows) ColumnTypeLength(i int) (int64, bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(i)
	}
	return 0, false
}

// ColumnTypeNullable is the driver's, or unknown.
func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if c, has := r.Rows.(driver.RowsColumnTypeNullable); has {
		return c.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypePrecisionScale is the driver's, or unknown.
func (r *rows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if c, has := r.Rows.(driver.RowsColumnTypePrecisionScale); has {
		return c.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
