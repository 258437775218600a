package payments_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"

	"pgregory.net/rapid"

	"github.com/riprap-go/riprap/payments"
)

// luhnComplete appends the check digit that makes digits pass Luhn.
func luhnComplete(digits []byte) string {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 { // doubled once the check digit is appended
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(digits) + string(rune('0'+(10-sum%10)%10))
}

// digitZeros are the zeros of digit scripts a card number may be typed in:
// ASCII, full-width, Arabic-Indic, Devanagari, mathematical bold (a block
// right after another digit block), and the superscripts, listed whole.
var digitZeros = []rune{'0', '０', '٠', '०', '𝟎', '𝟘'}

var superscripts = []rune("⁰¹²³⁴⁵⁶⁷⁸⁹")

// separators are what people (and their keyboards) put between groups.
var separators = []string{" ", "  ", "-", ".", "/", "_", ",", ", ", "\u00a0", "\u2009", "\u202f", "\u3000",
	"\u2013", "\u2014", "\u200b", "\u00ad", "．", "／", "＿", "，", "－", " - ", "'", ":", "*", "\u0301"}

// render writes the ASCII digits of pan in the scripts drawn, with a
// separator drawn before each digit but the first.
func render(t *rapid.T, pan string) string {
	var b strings.Builder
	for i := 0; i < len(pan); i++ {
		if i > 0 && rapid.IntRange(0, 3).Draw(t, "separate") == 0 {
			b.WriteString(rapid.SampledFrom(separators).Draw(t, "separator"))
		}
		d := rune(pan[i] - '0')
		switch script := rapid.IntRange(0, len(digitZeros)).Draw(t, "script"); script {
		case len(digitZeros):
			b.WriteRune(superscripts[d])
		default:
			b.WriteRune(digitZeros[script] + d)
		}
	}
	return b.String()
}

func TestPropCardNumbersAreFoundWhereverWritten(t *testing.T) {
	if got := luhnComplete([]byte("411111111111111")); got != "4111111111111111" {
		t.Fatalf("test helper broken: %s", got)
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(12, 18).Draw(t, "digits before check")
		body := []byte(rapid.StringMatching(`[0-9]{`+strconv.Itoa(n)+`}`).Draw(t, "body"))
		pan := luhnComplete(body)
		prefix := rapid.StringMatching(`([a-z ]{0,10}[a-z_])?`).Draw(t, "prefix")
		suffix := rapid.StringMatching(`([a-z ][a-z ]{0,10})?`).Draw(t, "suffix")
		text := prefix + render(t, pan) + suffix
		if !payments.ContainsCardNumber(text) {
			t.Fatalf("missed card number %s in %q", pan, text)
		}
	})
}

// TestPropMatchesReference compares ContainsCardNumber with a plain
// reference over strings of digits of several scripts, separators and
// letters, where runs of groups, long groups and near-misses are common.
func TestPropMatchesReference(t *testing.T) {
	alphabet := []string{"4", "1", "0", "7", "9", "５", "٣", "¹", "₂", " ", "-", ".", "\u00a0", "/", "a", "Z", "é"}
	rapid.Check(t, func(t *rapid.T) {
		parts := rapid.SliceOfN(rapid.SampledFrom(alphabet), 0, 60).Draw(t, "parts")
		s := strings.Join(parts, "")
		if got, want := payments.ContainsCardNumber(s), referenceContains(s); got != want {
			t.Fatalf("ContainsCardNumber(%q) = %v, reference %v", s, got, want)
		}
	})
}

// referenceContains is the rule of ContainsCardNumber written plainly:
// split s into runs of digit groups at letters, and try every span of whole
// consecutive groups.
func referenceContains(s string) bool {
	var groups []string
	cur := ""
	anySpan := func() bool {
		for i := range groups {
			span := ""
			for _, g := range groups[i:] {
				if span += g; len(span) > 19 {
					break
				}
				if len(span) >= 13 && referenceLuhn(span) {
					return true
				}
			}
		}
		return false
	}
	for _, r := range s + "x" { // a final letter closes the last run
		if d, ok := referenceDigit(r); ok {
			cur += string(rune('0' + d))
			continue
		}
		if cur != "" {
			groups, cur = append(groups, cur), ""
		}
		if unicode.IsLetter(r) {
			if anySpan() {
				return true
			}
			groups = nil
		}
	}
	return false
}

func referenceLuhn(digits string) bool {
	sum := 0
	for i := range len(digits) {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d = d*2/10 + d*2%10
		}
		sum += d
	}
	return sum%10 == 0
}

// referenceDigit finds a decimal digit's value by walking down to the
// start of its block of digits (blocks are runs of ten, 0 to 9).
func referenceDigit(r rune) (int, bool) {
	for v, sup := range superscripts {
		if r == sup {
			return v, true
		}
	}
	if r >= '₀' && r <= '₉' {
		return int(r - '₀'), true
	}
	if !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	start := r
	for unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10, true
}
