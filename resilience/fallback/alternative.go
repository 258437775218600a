package fallback

import (
	"context"
	"errors"
)

// Alternative produces a substitute result after the call failed with err
// (a rejection, an error, or a [*resilience.Judged] failure for a result
// judged bad). It returns an error when it has nothing to offer. It must be
// safe for concurrent use.
type Alternative[T any] func(ctx context.Context, err error) (T, error)

// Static returns an alternative that always answers v.
func Static[T any](v T) Alternative[T] {
	return func(context.Context, error) (T, error) { return v, nil }
}

// Chain returns an alternative that tries alts in order and answers with the
// first that succeeds, recording its position (0 for the first) in the
// caller's [Report]. When all fail it returns their errors joined. Nil
// entries are skipped; with none left, it always fails with
// [ErrNoAlternative].
func Chain[T any](alts ...Alternative[T]) Alternative[T] {
	var live []Alternative[T]
	for _, a := range alts {
		if a != nil {
			live = append(live, a)
		}
	}
	return func(ctx context.Context, err error) (T, error) {
		var zero T
		if len(live) == 0 {
			return zero, ErrNoAlternative
		}
		var errs []error
		for i, a := range live {
			v, aerr := a(ctx, err)
			if aerr == nil {
				reportFrom(ctx).setLevel(i)
				return v, nil
			}
			errs = append(errs, aerr)
		}
		return zero, errors.Join(errs...)
	}
}
