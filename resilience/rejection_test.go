package resilience_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/stretchr/testify/assert"
)

// lazyRejection computes its RetryAfter on demand, as a breaker does.
type lazyRejection struct{ left func() time.Duration }

func (l lazyRejection) Error() string { return "lazy" }
func (l lazyRejection) Rejection() resilience.Rejection {
	return resilience.Rejection{Policy: "breaker", RetryAfter: l.left()}
}

func TestRetryAfter(t *testing.T) {
	base := errors.New("503")
	tests := []struct {
		name string
		err  error
		want time.Duration
		ok   bool
	}{
		{"nil", nil, 0, false},
		{"plain", base, 0, false},
		{"rejection without hint", resilience.Reject("ratelimit", "", base, 0), 0, false},
		{"rejection", resilience.Reject("ratelimit", "", base, time.Second), time.Second, true},
		{"hint", resilience.WithRetryAfter(base, 3*time.Second), 3 * time.Second, true},
		{"hint wrapped", fmt.Errorf("fx: %w", resilience.WithRetryAfter(base, time.Minute)), time.Minute, true},
		{"zero hint", resilience.WithRetryAfter(base, 0), 0, false},
		{"hint inside a join", errors.Join(base, resilience.WithRetryAfter(base, time.Second)), time.Second, true},
		{"join without hint", errors.Join(base, base), 0, false},
		{"outer hint wins", resilience.WithRetryAfter(resilience.Reject("b", "", base, time.Hour), time.Second), time.Second, true},
		{"empty rejection defers to inner hint", resilience.Reject("b", "", resilience.WithRetryAfter(base, time.Second), 0), time.Second, true},
		{"lazy rejecter", lazyRejection{func() time.Duration { return 7 * time.Millisecond }}, 7 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := resilience.RetryAfter(tt.err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.ok, ok)
		})
	}
	assert.NoError(t, resilience.WithRetryAfter(nil, time.Second))
	assert.ErrorIs(t, resilience.WithRetryAfter(base, time.Second), base)
}

func TestRejectionMessagesAndMatching(t *testing.T) {
	sentinel := errors.New("bulkhead: full")
	tests := []struct {
		r    resilience.Rejection
		want string
	}{
		{resilience.Rejection{Policy: "bulkhead", Reason: sentinel}, "bulkhead: full"},
		{resilience.Rejection{Policy: "bulkhead", Name: "bank", Reason: sentinel}, `bulkhead: full (name "bank")`},
		{resilience.Rejection{Policy: "bulkhead", RetryAfter: time.Second, Reason: sentinel}, "bulkhead: full (retry after 1s)"},
		{resilience.Rejection{Policy: "health", Name: "fx"}, `health: rejected (name "fx")`},
	}
	for _, tt := range tests {
		r := tt.r
		assert.Equal(t, tt.want, r.Error())
		assert.True(t, resilience.IsRejected(&r))
		got, ok := resilience.AsRejection(fmt.Errorf("w: %w", &r))
		assert.True(t, ok)
		assert.Equal(t, tt.r, got)
	}
	assert.False(t, resilience.IsRejected(sentinel))
	_, ok := resilience.AsRejection(sentinel)
	assert.False(t, ok)
	assert.True(t, resilience.IsRejected(lazyRejection{func() time.Duration { return 0 }}))
}

func TestPanicErrorUnwrapsOnlyErrors(t *testing.T) {
	pe := resilience.NewPanicError("not an error")
	assert.NoError(t, pe.Unwrap())
	assert.Contains(t, pe.Error(), "recovered panic: not an error")
	assert.Contains(t, string(pe.Stack), "TestPanicErrorUnwrapsOnlyErrors")
}

// asRejecter exposes a rejection only through an As method.
type asRejecter struct{ inner *resilience.Rejection }

func (a asRejecter) Error() string { return "wrapped" }
func (a asRejecter) As(target any) bool {
	if p, ok := target.(*resilience.Rejecter); ok {
		*p = a.inner
		return true
	}
	return false
}

func TestIsRejectedHonoursAsMethodsAndNesting(t *testing.T) {
	r := &resilience.Rejection{Policy: "bulkhead", Reason: errors.New("bulkhead: full")}
	assert.True(t, resilience.IsRejected(asRejecter{r}))
	assert.True(t, resilience.IsRejected(fmt.Errorf("a: %w", errors.Join(errors.New("x"), fmt.Errorf("b: %w", r)))))
	assert.False(t, resilience.IsRejected(errors.Join(errors.New("x"), errors.New("y"))))
	assert.False(t, resilience.IsRejected(nil))
}

func TestIsRejectedDoesNotAllocate(t *testing.T) {
	err := fmt.Errorf("transfer: %w", errors.New("bank: 500"))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = resilience.IsRejected(err) }))
}

func BenchmarkIsRejectedOnAFailure(b *testing.B) {
	err := fmt.Errorf("transfer: %w", errors.New("bank: 500"))
	b.ReportAllocs()
	for b.Loop() {
		_ = resilience.IsRejected(err)
	}
}
