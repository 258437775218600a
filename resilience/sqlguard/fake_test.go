package sqlguard_test

import (
	"context"
	"database/sql/driver"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
)

// fake is a pretend database behind a real driver.Connector: database/sql
// drives it exactly as it drives a real driver. It records every call its
// connections receive, answers from a script of errors, and notices two
// calls overlapping on one connection (which database/sql never does).
type fake struct {
	full bool // connections implement every optional interface
	// make, when set, builds each connection instead (to pick optional
	// interfaces one by one).
	make func(*bareConn) driver.Conn

	mu      sync.Mutex // protects the fields below
	log     []string
	script  map[string][]error // per op, the errors of its next calls (nil: succeed)
	opened  int
	closed  int
	hook    func(ctx context.Context, op string) // runs inside each call, unlocked
	rows    int                                  // rows a query returns
	lastCtx context.Context                      // of the latest query

	overlap atomic.Bool
}

func newFake(full bool) *fake { return &fake{full: full, script: map[string][]error{}, rows: 3} }

// fail scripts the next calls of op to return errs in turn.
func (f *fake) fail(op string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[op] = append(f.script[op], errs...)
}

func (f *fake) calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, o := range f.log {
		if o == op {
			n++
		}
	}
	return n
}

func (f *fake) counts() (opened, closed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened, f.closed
}

func (f *fake) step(ctx context.Context, op string) error {
	f.mu.Lock()
	f.log = append(f.log, op)
	var err error
	if s := f.script[op]; len(s) > 0 {
		err, f.script[op] = s[0], s[1:]
	}
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		hook(ctx, op)
	}
	return err
}

// Connect opens a connection unless the script says otherwise.
func (f *fake) Connect(ctx context.Context) (driver.Conn, error) {
	if err := f.step(ctx, "connect"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.opened++
	f.mu.Unlock()
	b := &bareConn{f: f}
	switch {
	case f.make != nil:
		return f.make(b), nil
	case f.full:
		return &fullConn{b}, nil
	}
	return b, nil
}

func (f *fake) Driver() driver.Driver { return fakeDriver{f} }

type fakeDriver struct{ f *fake }

func (d fakeDriver) Open(string) (driver.Conn, error) { return d.f.Connect(context.Background()) }

// bareConn implements driver.Conn and nothing else.
type bareConn struct {
	f    *fake
	busy atomic.Int32
}

func (c *bareConn) do(ctx context.Context, op string) error {
	if c.busy.Add(1) != 1 {
		c.f.overlap.Store(true)
	}
	defer c.busy.Add(-1)
	return c.f.step(ctx, op)
}

func (c *bareConn) Prepare(query string) (driver.Stmt, error) {
	if err := c.do(context.Background(), "prepare"); err != nil {
		return nil, err
	}
	return &bareStmt{c: c}, nil
}

func (c *bareConn) Close() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.f.closed++
	c.f.log = append(c.f.log, "close")
	return nil
}

func (c *bareConn) Begin() (driver.Tx, error) {
	if err := c.do(context.Background(), "begin"); err != nil {
		return nil, err
	}
	return fakeTx{c}, nil
}

func (c *bareConn) rows(ctx context.Context, full bool) driver.Rows {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.f.lastCtx = ctx
	r := &fakeRows{ctx: ctx, n: c.f.rows}
	if full {
		return &fullRows{r}
	}
	return r
}

// fullConn implements every optional interface database/sql looks for.
type fullConn struct{ *bareConn }

func (c *fullConn) ExecContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Result, error) {
	if err := c.do(ctx, "exec"); err != nil {
		return nil, err
	}
	return driver.RowsAffected(1), nil
}

func (c *fullConn) QueryContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Rows, error) {
	if err := c.do(ctx, "query"); err != nil {
		return nil, err
	}
	return c.rows(ctx, true), nil
}

func (c *fullConn) PrepareContext(ctx context.Context, _ string) (driver.Stmt, error) {
	if err := c.do(ctx, "prepare"); err != nil {
		return nil, err
	}
	return &fullStmt{&bareStmt{c: c.bareConn}}, nil
}

func (c *fullConn) BeginTx(ctx context.Context, _ driver.TxOptions) (driver.Tx, error) {
	if err := c.do(ctx, "begin"); err != nil {
		return nil, err
	}
	return fakeTx{c.bareConn}, nil
}

func (c *fullConn) Ping(ctx context.Context) error { return c.do(ctx, "ping") }

func (c *fullConn) ResetSession(ctx context.Context) error { return c.do(ctx, "reset") }

func (c *fullConn) IsValid() bool { return true }

func (c *fullConn) CheckNamedValue(nv *driver.NamedValue) error {
	c.f.mu.Lock()
	c.f.log = append(c.f.log, "check")
	c.f.mu.Unlock()
	return driver.ErrSkip
}

type fakeTx struct{ c *bareConn }

func (t fakeTx) Commit() error   { return t.c.do(context.Background(), "commit") }
func (t fakeTx) Rollback() error { return t.c.do(context.Background(), "rollback") }

// bareStmt implements driver.Stmt and nothing else.
type bareStmt struct{ c *bareConn }

func (s *bareStmt) Close() error  { return nil }
func (s *bareStmt) NumInput() int { return -1 }
func (s *bareStmt) Exec([]driver.Value) (driver.Result, error) {
	if err := s.c.do(context.Background(), "stmt-exec"); err != nil {
		return nil, err
	}
	return driver.RowsAffected(1), nil
}

func (s *bareStmt) Query([]driver.Value) (driver.Rows, error) {
	if err := s.c.do(context.Background(), "stmt-query"); err != nil {
		return nil, err
	}
	return s.c.rows(context.Background(), false), nil
}

// fullStmt adds the context methods and a column converter.
type fullStmt struct{ *bareStmt }

func (s *fullStmt) ExecContext(ctx context.Context, _ []driver.NamedValue) (driver.Result, error) {
	if err := s.c.do(ctx, "stmt-exec"); err != nil {
		return nil, err
	}
	return driver.RowsAffected(1), nil
}

func (s *fullStmt) QueryContext(ctx context.Context, _ []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.do(ctx, "stmt-query"); err != nil {
		return nil, err
	}
	return s.c.rows(ctx, true), nil
}

func (s *fullStmt) ColumnConverter(int) driver.ValueConverter {
	s.c.f.mu.Lock()
	s.c.f.log = append(s.c.f.log, "convert")
	s.c.f.mu.Unlock()
	return driver.DefaultParameterConverter
}

// fakeRows yields n rows of one column, 1..n, and fails once its context
// is done, as a driver that keeps the query's context does.
type fakeRows struct {
	ctx  context.Context
	n, i int
}

func (r *fakeRows) Columns() []string { return []string{"v"} }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.i >= r.n {
		return io.EOF
	}
	r.i++
	dest[0] = int64(r.i)
	return nil
}

// fullRows describes its columns.
type fullRows struct{ *fakeRows }

func (r *fullRows) HasNextResultSet() bool                            { return false }
func (r *fullRows) NextResultSet() error                              { return io.EOF }
func (r *fullRows) ColumnTypeScanType(int) reflect.Type               { return reflect.TypeFor[int64]() }
func (r *fullRows) ColumnTypeDatabaseTypeName(int) string             { return "INTEGER" }
func (r *fullRows) ColumnTypeLength(int) (int64, bool)                { return 8, true }
func (r *fullRows) ColumnTypeNullable(int) (bool, bool)               { return false, true }
func (r *fullRows) ColumnTypePrecisionScale(int) (int64, int64, bool) { return 19, 0, true }
