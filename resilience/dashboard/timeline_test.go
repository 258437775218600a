package dashboard

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }

func seqs(tl *timeline) []uint64 {
	var out []uint64
	for _, e := range tl.entries {
		out = append(out, e.Seq)
	}
	return out
}

func TestTimelineInsert(t *testing.T) {
	tl := &timeline{}
	assert.True(t, tl.insert(Transition{State: "closed", At: at(0), Seq: 0}))
	assert.True(t, tl.insert(Transition{State: "half_open", At: at(5), Seq: 2}))
	assert.True(t, tl.insert(Transition{State: "open", At: at(3), Seq: 1}), "a late report finds its place")
	assert.False(t, tl.insert(Transition{State: "half_open", At: at(5), Seq: 2}), "a transition is kept once")
	assert.Equal(t, []uint64{0, 1, 2}, seqs(tl))

	assert.False(t, tl.insert(Transition{State: "open", At: at(3), Seq: 1, Reason: "5 consecutive failures"}))
	assert.Equal(t, "5 consecutive failures", tl.entries[1].Reason, "a listener's reason fills in a sampled transition")
	assert.False(t, tl.insert(Transition{State: "open", At: at(3), Seq: 1, Reason: "other"}))
	assert.Equal(t, "5 consecutive failures", tl.entries[1].Reason, "a reason once known stays")
}

func TestTimelineBound(t *testing.T) {
	tl := &timeline{}
	for i := range 3 * MaxTransitions {
		tl.insert(Transition{State: "open", At: at(i), Seq: uint64(i + 10)})
		require.LessOrEqual(t, len(tl.entries), MaxTransitions, "after %d inserts", i+1)
	}
	require.Len(t, tl.entries, MaxTransitions)
	assert.Equal(t, uint64(3*MaxTransitions+9), tl.entries[MaxTransitions-1].Seq, "the newest is kept")
	assert.Equal(t, uint64(2*MaxTransitions+10), tl.entries[0].Seq, "the oldest went first")
	assert.LessOrEqual(t, cap(tl.entries), 2*MaxTransitions, "the backing array is bounded too")

	assert.False(t, tl.insert(Transition{State: "open", Seq: 1}), "a full timeline refuses what would be its oldest")
	assert.True(t, tl.insert(Transition{State: "open", Seq: 2*MaxTransitions + 10 + 5 + 1000000}))
	assert.Len(t, tl.entries, MaxTransitions)
}

func TestTimelinePrune(t *testing.T) {
	for _, c := range []struct {
		name   string
		cutoff int
		want   []uint64
	}{
		{"before everything", -1, []uint64{1, 2, 3}},
		{"inside the first", 5, []uint64{1, 2, 3}},
		{"at the second", 10, []uint64{2, 3}},
		{"inside the second", 15, []uint64{2, 3}},
		{"past the last keeps the last", 100, []uint64{3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tl := &timeline{}
			for i, s := range []int{0, 10, 20} {
				tl.insert(Transition{State: "x", At: at(s), Seq: uint64(i + 1)})
			}
			tl.prune(at(c.cutoff))
			assert.Equal(t, c.want, seqs(tl), "cutoff at %ds", c.cutoff)
		})
	}
}

func TestReasonClipped(t *testing.T) {
	long := strings.Repeat("é", maxReason) // two bytes each
	tl := &timeline{}
	tl.insert(Transition{State: "open", Reason: long})
	r := tl.entries[0].Reason
	assert.True(t, utf8.ValidString(r), "no character is split")
	assert.LessOrEqual(t, len(r), maxReason+len("…"))
	assert.True(t, strings.HasSuffix(r, "…"))
	assert.Equal(t, "short", clip("short", maxReason))
}
