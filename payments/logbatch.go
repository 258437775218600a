package payments

import (
	"context"
	"fmt"
)

// CheckBatch returns nil when entries fits in one [Log.AppendBatch], and
// otherwise an error matching [ErrBatchTooLarge] that says by how much.
func CheckBatch(entries []Entry) error {
	if len(entries) > MaxLogBatch {
		return fmt.Errorf("%w: %d entries, at most %d", ErrBatchTooLarge, len(entries), MaxLogBatch)
	}
	return nil
}

// AppendEach implements [Log.AppendBatch] with one call of appendOne per
// entry, in order: for a log that has no cheaper batch, or a test double
// that overrides Append alone. It refuses a batch longer than [MaxLogBatch]
// whole, and stops with the context's error, whole, once ctx is done
// (appends being idempotent, the caller sends the batch again).
func AppendEach(ctx context.Context, appendOne func(context.Context, Entry) error, entries []Entry) ([]error, error) {
	if err := CheckBatch(entries); err != nil {
		return nil, err
	}
	results := make([]error, len(entries))
	for i, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		results[i] = appendOne(ctx, e)
	}
	return results, nil
}
