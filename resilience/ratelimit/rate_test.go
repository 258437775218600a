package ratelimit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/ratelimit"
)

func TestRateInterval(t *testing.T) {
	tests := []struct {
		name string
		rate ratelimit.Rate
		want time.Duration
	}{
		{"every", ratelimit.Every(100 * time.Millisecond), 100 * time.Millisecond},
		{"per second exact", ratelimit.PerSecond(4), 250 * time.Millisecond},
		{"per second rounds up", ratelimit.PerSecond(3), 333333334},
		{"per minute", ratelimit.Per(7, time.Minute), 8571428572},
		{"faster than 1/ns caps at 1ns", ratelimit.PerSecond(2_000_000_000), 1},
		{"inf has none", ratelimit.Inf, 0},
		{"zero rate is invalid", ratelimit.Rate{}, 0},
		{"negative is invalid", ratelimit.PerSecond(-1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rate.Interval(), "rate %v", tt.rate)
		})
	}
}

func TestRateText(t *testing.T) {
	tests := []struct {
		rate ratelimit.Rate
		text string
	}{
		{ratelimit.PerSecond(100), "100/s"},
		{ratelimit.Per(10, time.Minute), "10/m"},
		{ratelimit.Per(5, time.Hour), "5/h"},
		{ratelimit.Per(2, time.Millisecond), "2/ms"},
		{ratelimit.Per(3, time.Microsecond), "3/us"},
		{ratelimit.Per(1, time.Nanosecond), "1/ns"},
		{ratelimit.Every(250 * time.Millisecond), "1/250ms"},
		{ratelimit.Per(3, 90*time.Second), "3/1m30s"},
		{ratelimit.Every(1500 * time.Nanosecond), "1/1.5us"},
		{ratelimit.Inf, "Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			assert.Equal(t, tt.text, tt.rate.String())
			b, err := tt.rate.MarshalText()
			require.NoError(t, err)
			assert.Equal(t, tt.text, string(b))
			var back ratelimit.Rate
			require.NoError(t, back.UnmarshalText(b))
			assert.Equal(t, tt.rate, back, "round trip of %q", tt.text)
		})
	}
	assert.Equal(t, "0/0s", ratelimit.Rate{}.String(), "the zero rate reads as what it is")
}

func TestParseRate(t *testing.T) {
	accepted := []struct {
		text string
		want ratelimit.Rate
	}{
		{"100/s", ratelimit.PerSecond(100)},
		{" 100 / 1s ", ratelimit.PerSecond(100)},
		{"1/250ms", ratelimit.Every(250 * time.Millisecond)},
		{"7/µs", ratelimit.Per(7, time.Microsecond)},
		{"inf", ratelimit.Inf},
		{"INF", ratelimit.Inf},
	}
	for _, tt := range accepted {
		got, err := ratelimit.ParseRate(tt.text)
		require.NoError(t, err, "ParseRate(%q)", tt.text)
		assert.Equal(t, tt.want, got, "ParseRate(%q)", tt.text)
	}
	refused := []struct{ text, err string }{
		{"", `ratelimit: rate "": want N/period (100/s, 1/250ms) or Inf`},
		{"100", `ratelimit: rate "100": want N/period (100/s, 1/250ms) or Inf`},
		{"x/s", `ratelimit: rate "x/s": count "x" is not an integer`},
		{"1/fortnight", `ratelimit: rate "1/fortnight": period "1fortnight" is not a duration`},
		{"1/", `ratelimit: rate "1/": period "" is not a duration`},
		{"0/s", `ratelimit: rate "0/s": count and period must be positive`},
		{"-3/s", `ratelimit: rate "-3/s": count and period must be positive`},
		{"1/-1s", `ratelimit: rate "1/-1s": count and period must be positive`},
		{"0/0s", `ratelimit: rate "0/0s": count and period must be positive`},
	}
	for _, tt := range refused {
		_, err := ratelimit.ParseRate(tt.text)
		assert.EqualError(t, err, tt.err, "ParseRate(%q)", tt.text)
	}
}

// TestRateInJSON: a Rate field reads and writes as text in any struct,
// such as a user's configuration file.
func TestRateInJSON(t *testing.T) {
	type limits struct {
		Bank ratelimit.Rate `json:"bank"`
		FX   ratelimit.Rate `json:"fx"`
	}
	var l limits
	require.NoError(t, json.Unmarshal([]byte(`{"bank":"100/s","fx":"Inf"}`), &l))
	assert.Equal(t, limits{Bank: ratelimit.PerSecond(100), FX: ratelimit.Inf}, l)
	b, err := json.Marshal(l)
	require.NoError(t, err)
	assert.JSONEq(t, `{"bank":"100/s","fx":"Inf"}`, string(b))
	assert.Error(t, json.Unmarshal([]byte(`{"bank":"fast"}`), &l))
}

// FuzzParseRate: any text either parses into a rate whose text parses
// back to the same rate, or is refused; nothing panics.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"100/s", "1/250ms", "Inf", "3/1m30s", "0/s", "1/", "/", "9223372036854775807/ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ratelimit.ParseRate(s)
		if err != nil {
			return
		}
		back, err := ratelimit.ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v, whose text %q parses to %v, %v", s, r, r.String(), back, err)
		}
	})
}
