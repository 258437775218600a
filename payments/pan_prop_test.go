package payments_test

import (
	"strings"
	"testing"

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

func TestPropCardNumbersAreFoundWhereverWritten(t *testing.T) {
	if got := luhnComplete([]byte("411111111111111")); got != "4111111111111111" {
		t.Fatalf("test helper broken: %s", got)
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(12, 18).Draw(t, "digits before check")
		body := []byte(rapid.StringMatching(`[0-9]{`+itoa(n)+`}`).Draw(t, "body"))
		pan := luhnComplete(body)
		sep := rapid.SampledFrom([]string{"", " ", "-"}).Draw(t, "separator")
		var b strings.Builder
		for i := 0; i < len(pan); i++ {
			if i > 0 && i%4 == 0 {
				b.WriteString(sep)
			}
			b.WriteByte(pan[i])
		}
		prefix := rapid.StringMatching(`([a-z ]{0,10}[a-z])?`).Draw(t, "prefix")
		suffix := rapid.StringMatching(`([a-z][a-z ]{0,10})?`).Draw(t, "suffix")
		text := prefix + " " + b.String() + " " + suffix
		if !payments.ContainsCardNumber(text) {
			t.Fatalf("missed card number in %q", text)
		}
	})
}

func itoa(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }
