package riprapredis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOpening(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    opening
		ok      bool
	}{
		{"full", "v1\n3\n1700000000000\n5000\na\nconsecutive failures 5", opening{3, 1700000000000, 5000, "a", "consecutive failures 5"}, true},
		{"empty reason", "v1\n1\n10\n10\nb\n", opening{1, 10, 10, "b", ""}, true},
		{"reason keeps later newlines", "v1\n1\n10\n10\nb\nx\ny", opening{1, 10, 10, "b", "x\ny"}, true},
		{"other version", "v2\n1\n10\n10\nb\n", opening{}, false},
		{"too few fields", "v1\n1\n10\n10", opening{}, false},
		{"negative", "v1\n-1\n10\n10\nb\n", opening{}, false},
		{"not a number", "v1\n1\nsoon\n10\nb\n", opening{}, false},
		{"empty", "", opening{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOpening(tc.payload)
			if !tc.ok {
				require.ErrorIs(t, err, errBadMessage)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSanitizeKeepsOneShortLine(t *testing.T) {
	assert.Equal(t, "a b c", sanitize("a\nb\rc"))
	long := strings.Repeat("é", 150) // 300 bytes
	got := sanitize(long)
	assert.LessOrEqual(t, len(got), 200)
	assert.True(t, strings.HasPrefix(long, got))
	assert.Equal(t, strings.ToValidUTF8(got, "?"), got, "no rune cut in half")
}

// Messages come from the network: any payload is refused or parsed, never
// a panic, and what parses has non-negative numbers.
func FuzzParseOpening(f *testing.F) {
	f.Add("v1\n3\n1700000000000\n5000\na\nreason")
	f.Add("v1\n\n\n\n\n")
	f.Add("v1\n99999999999999999999\n1\n1\na\n")
	f.Fuzz(func(t *testing.T, payload string) {
		o, err := parseOpening(payload)
		if err != nil {
			return
		}
		if o.epoch < 0 || o.deadline < 0 || o.wait < 0 || strings.Contains(o.origin, "\n") {
			t.Fatalf("parsed %q into %+v", payload, o)
		}
	})
}
