package hedge

import "errors"

// ErrNilHedger is returned by every call through a nil *Hedger.
var ErrNilHedger = errors.New("hedge: nil Hedger")
