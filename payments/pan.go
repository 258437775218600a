package payments

import (
	"unicode"
	"unicode/utf8"
)

// ContainsCardNumber reports whether s holds something that looks like a
// payment card number (PAN): 13 to 19 digits that pass the Luhn check.
//
// Digits are read after normalising how people (and their keyboards) write
// them: any Unicode decimal digit counts with its value (full-width "４",
// Arabic-Indic "٤", …), as do superscript and subscript digits; and digit
// groups join into one number across anything that is not a letter — spaces
// of any kind and any number, dashes, dots, slashes, underscores, commas,
// other punctuation and symbols, invisible format characters. So
// "4111.1111.1111.1111", "4111/1111/1111/1111", "4111  1111\u00a01111 1111"
// and "acct_4111111111111111" are all caught. A letter ends a number.
//
// Within such a run of digit groups, every span of whole consecutive groups
// is checked, so a card number followed by more digits ("4111111111111111
// 2024") is still caught; a span never starts or ends inside a group, so a
// long unbroken number (a 20-digit reference) is not cut into windows that
// would pass Luhn by chance one time in ten. The check errs toward refusing:
// about one honest 13-19 digit number in ten passes Luhn.
//
// It never allocates, and its work is linear in len(s).
func ContainsCardNumber(s string) bool {
	var sc panScanner
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		if d, ok := digitValue(r); ok {
			sc.digit(d)
			continue
		}
		if sc.endGroup() {
			return true
		}
		if unicode.IsLetter(r) {
			sc.reset()
		}
	}
	return sc.endGroup()
}

// Bounds of a card number, in digits.
const (
	minPANDigits = 13
	maxPANDigits = 19
)

// panScanner holds the tail of the current run of digit groups: only the
// groups that a span ending at a later group could still use (at most
// maxPANDigits digits in all), so its memory is fixed whatever the input.
type panScanner struct {
	digits [2 * maxPANDigits]byte // retained groups' digits, then the open group's
	n      int                    // digits used in digits
	lens   [maxPANDigits]int      // lengths of the retained (closed) groups, oldest first
	groups int                    // entries used in lens
	open   int                    // digits of the open group (may exceed what is stored)
}

func (sc *panScanner) digit(d byte) {
	if sc.open < maxPANDigits {
		sc.digits[sc.n] = d
		sc.n++
	}
	sc.open++
}

func (sc *panScanner) reset() { *sc = panScanner{} }

// endGroup closes the open group, if any, and reports whether a span of
// whole groups ending with it is a card number.
func (sc *panScanner) endGroup() bool {
	if sc.open == 0 {
		return false
	}
	if sc.open > maxPANDigits { // no span can hold it: it splits the run
		sc.reset()
		return false
	}
	sc.lens[sc.groups] = sc.open
	sc.groups++
	sc.open = 0
	total := 0
	for g := sc.groups - 1; g >= 0; g-- {
		total += sc.lens[g]
		if total > maxPANDigits {
			break
		}
		if total >= minPANDigits && luhn(sc.digits[sc.n-total:sc.n]) {
			return true
		}
	}
	sc.trim()
	return false
}

// trim drops the oldest groups that no later span can reach: a later span
// holds at least one more digit, so the retained groups total at most
// maxPANDigits-1.
func (sc *panScanner) trim() {
	drop, dropped := 0, 0
	for sc.n-dropped > maxPANDigits-1 {
		dropped += sc.lens[drop]
		drop++
	}
	if drop == 0 {
		return
	}
	copy(sc.digits[:], sc.digits[dropped:sc.n])
	copy(sc.lens[:], sc.lens[drop:sc.groups])
	sc.n -= dropped
	sc.groups -= drop
}

// luhn runs the Luhn checksum over digits (values 0-9).
func luhn(digits []byte) bool {
	sum, double := 0, false
	for k := len(digits) - 1; k >= 0; k-- {
		d := int(digits[k])
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// digitValue returns the value of r when r is a digit: a Unicode decimal
// digit (category Nd), or a superscript or subscript digit.
func digitValue(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r - '0'), true
	case r < utf8.RuneSelf:
		return 0, false
	case r == '¹':
		return 1, true
	case r == '²' || r == '³':
		return byte(r-'²') + 2, true
	case r == '⁰' || r >= '⁴' && r <= '⁹':
		return byte(r - '⁰'), true
	case r >= '₀' && r <= '₉':
		return byte(r - '₀'), true
	}
	return decimalDigit(r)
}

// decimalDigit reads a non-ASCII Unicode decimal digit. Unicode assigns
// decimal digits only in contiguous runs of ten, from 0 to 9, so within a
// range of the Nd table a digit's value is its offset modulo 10.
func decimalDigit(r rune) (byte, bool) {
	for _, rg := range unicode.Nd.R16 {
		if r < rune(rg.Lo) {
			return 0, false
		}
		if r <= rune(rg.Hi) {
			return byte((r - rune(rg.Lo)) % 10), true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r < rune(rg.Lo) {
			return 0, false
		}
		if r <= rune(rg.Hi) {
			return byte((r - rune(rg.Lo)) % 10), true
		}
	}
	return 0, false
}
