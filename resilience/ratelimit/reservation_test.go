package ratelimit_test

import (
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestReservationCancelRule(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: 2, Clock: mock})
	require.NoError(t, err)
	a := l.ReserveN(2)
	b := l.ReserveN(1)
	require.True(t, a.OK())
	require.True(t, b.OK())
	assert.Equal(t, time.Second, b.Delay())
	assert.False(t, a.Cancel(), "b depends on a's tokens")
	assert.True(t, b.Cancel(), "b is the latest admission")
	assert.False(t, b.Cancel(), "a second cancel does nothing")
	c := l.ReserveN(1) // the same slot b had
	assert.Equal(t, time.Second, c.Delay())
	assert.False(t, a.Cancel(), "a was already cancelled once")
	assert.True(t, c.Cancel())
	d := l.ReserveN(1)
	require.NoError(t, l.SetRate(ratelimit.Every(time.Second)))
	assert.False(t, d.Cancel(), "limits changed since")

	var zero ratelimit.Reservation
	assert.False(t, zero.OK())
	assert.Zero(t, zero.Delay())
	assert.False(t, zero.Cancel(), "the zero reservation does nothing")

	tooBig := l.ReserveN(3)
	assert.False(t, tooBig.OK())
	assert.Zero(t, tooBig.Delay())
	assert.False(t, tooBig.Cancel())
}

// TestReservationCancelledAfterItsActTimeKeepsItsTokens (issue 12 item 9):
// a reservation cancelled once its act time has passed gives nothing back,
// because its holder may have acted; returning the tokens would let a
// second holder act in the same window, over the limit.
func TestReservationCancelledAfterItsActTimeKeepsItsTokens(t *testing.T) {
	mock := clock.NewMock()
	l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: 1, Clock: mock})
	require.NoError(t, err)

	now := l.Reserve() // may act at once
	require.Zero(t, now.Delay())
	mock.Add(time.Millisecond)
	assert.False(t, now.Cancel(), "its act time has passed")
	assert.False(t, l.Allow(), "the token stays spent: a second event within the second would exceed the rate")
	assert.Equal(t, 999*time.Millisecond, l.Reserve().Delay(), "the schedule did not move back")
}

func TestReservationCancelBeforeOrAtItsActTime(t *testing.T) {
	tests := []struct {
		name   string
		cancel time.Duration // after the reservation, which acts at +1s
		want   bool
	}{
		{"well before", 100 * time.Millisecond, true},
		{"at the act time", time.Second, true},
		{"just after", time.Second + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock := clock.NewMock()
			l, err := ratelimit.NewWithConfig(ratelimit.Config{Rate: ratelimit.Every(time.Second), Burst: 1, Clock: mock})
			require.NoError(t, err)
			require.True(t, l.Allow())
			r := l.Reserve()
			require.Equal(t, time.Second, r.Delay())
			t0 := mock.Now()
			got := r.CancelAt(t0.Add(tt.cancel))
			assert.Equal(t, tt.want, got, "CancelAt(+%v) got %v, want %v", tt.cancel, got, tt.want)
			wantTAT := 2 * time.Second // the reservation's token still counts
			if tt.want {
				wantTAT = time.Second
			}
			assert.Equal(t, wantTAT, l.SnapshotAt(t0).FullIn)
		})
	}
}
