package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// Errors of the stores, matched with errors.Is.
var (
	// ErrFull: the outbox has no slot left for a new claim. The error is a
	// rejection (resilience.IsRejected) with a Retry-After: the payment
	// was not attempted.
	ErrFull = errors.New("store: full")
	// ErrClaimLost: the token presented no longer holds the payment's
	// claim; another claimant took it over after it expired.
	ErrClaimLost = errors.New("store: claim lost to another claimant")
	// ErrNotFound: no payment has the key.
	ErrNotFound = errors.New("store: no such payment")
	// ErrInvalid: the store refuses what it was asked to write.
	ErrInvalid = errors.New("store: invalid write")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrDamaged: the store found damage it will not work around (a
	// corrupt file, a record it cannot read); the error says where.
	ErrDamaged = errors.New("store: damaged")
)

// Full returns the error of a claim refused for lack of room: a
// [resilience.Rejection] by the store named name, matching [ErrFull], that
// asks to retry after retryAfter.
func Full(name string, retryAfter time.Duration) error {
	return resilience.Reject("store", name, ErrFull, retryAfter)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Invalid returns an error matching [ErrInvalid] with the given words, for
// implementations.
func Invalid(format string, args ...any) error { return invalid(format, args...) }

// Defaults of a [Config].
const (
	DefaultMaxOutbox      = 10000
	DefaultFullRetryAfter = time.Second
)

// Config bounds a store. The zero value means the defaults.
type Config struct {
	// MaxOutbox bounds the entries queued plus the slots reserved by open
	// and pending payments; 0 means DefaultMaxOutbox.
	MaxOutbox int
	// FullRetryAfter is the wait suggested to a claim refused for lack of
	// room; 0 means DefaultFullRetryAfter.
	FullRetryAfter time.Duration
}

// Resolve returns c with its defaults filled in, or a
// [*resilience.ConfigError] naming component for a negative field.
func (c Config) Resolve(component string) (Config, error) {
	switch {
	case c.MaxOutbox < 0:
		return c, &resilience.ConfigError{Component: component, Field: "MaxOutbox", Rule: "must not be negative", Value: c.MaxOutbox}
	case c.FullRetryAfter < 0:
		return c, &resilience.ConfigError{Component: component, Field: "FullRetryAfter", Rule: "must not be negative", Value: c.FullRetryAfter}
	}
	if c.MaxOutbox == 0 {
		c.MaxOutbox = DefaultMaxOutbox
	}
	if c.FullRetryAfter == 0 {
		c.FullRetryAfter = DefaultFullRetryAfter
	}
	return c, nil
}
