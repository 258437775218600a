package sqlguard

import (
	"context"
	"database/sql/driver"
	"errors"
)

// tx is a guarded transaction: Commit goes through the guards (never the
// retry), Rollback straight to the driver.
type tx struct {
	t    driver.Tx
	c    *conn
	ctx  context.Context // the caller's, given to BeginTx: the transaction's context
	hold *hold
}

// Commit commits through the guards. When a guard refuses it, the
// transaction is still open in the driver: the error then also matches
// driver.ErrBadConn, so that database/sql closes the connection (which
// ends the transaction) instead of pooling it mid-transaction.
func (t *tx) Commit() error {
	defer t.end()
	reached := false
	err := t.c.call(t.ctx, retryNever, func(context.Context) error {
		reached = true
		return t.t.Commit()
	})
	if err != nil && !reached {
		return errors.Join(err, driver.ErrBadConn)
	}
	return err
}

// Rollback is the driver's, unguarded: a transaction must always be able
// to end.
func (t *tx) Rollback() error {
	defer t.end()
	return t.t.Rollback()
}

func (t *tx) end() {
	t.c.inTx = false
	t.hold.release()
}
