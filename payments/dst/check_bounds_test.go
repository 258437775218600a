package dst

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Found by TestWorlds in CI: two slowdowns of 46ms and 3ms overlapped on an
// FX with 2ms of jitter and a 50ms timeout. Each alone stays in time; the
// sim adds them up, so calls timed out, the breaker rightly opened, and
// neverHeldOpen called it a dependency held down while answering in time.
func TestFailingAddsUpOverlappingSlowdowns(t *testing.T) {
	ms := func(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }
	f := Faults{Jitter: ms(2), Windows: []Window{
		{Kind: Slowdown, Start: ms(1000), End: ms(40000), Extra: ms(3)},
		{Kind: Slowdown, Start: ms(6), End: ms(17000), Extra: ms(46)},
		{Kind: Outage, Start: ms(20000), End: ms(21000)},
	}}
	assert.Equal(t, []span{{20 * time.Second, 21 * time.Second}, {time.Second, 17 * time.Second}},
		f.failing(50*time.Millisecond), "late only while both slowdowns are on; the outage always")
	assert.Equal(t, []span{{20 * time.Second, 21 * time.Second}}, f.failing(52*time.Millisecond),
		"with a longer timeout the two together stay in time")

	adjoining := Faults{Windows: []Window{
		{Kind: Slowdown, Start: ms(0), End: ms(100), Extra: ms(60)},
		{Kind: Slowdown, Start: ms(100), End: ms(200), Extra: ms(60)},
	}}
	assert.Equal(t, []span{{0, 200 * time.Millisecond}}, adjoining.failing(50*time.Millisecond),
		"adjoining late stretches are one span")
}
