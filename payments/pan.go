package payments

// ContainsCardNumber reports whether s holds something that looks like a
// payment card number (PAN): 13 to 19 digits that pass the Luhn check,
// written together or in groups separated by single spaces or dashes
// ("4111 1111 1111 1111", "4111-1111-1111-1111").
//
// Within a run of digit groups, every span of whole consecutive groups is
// checked, so a card number followed by more digits ("4111111111111111
// 2024") is still caught; a span never starts or ends inside a group, so a
// long unbroken number (a 20-digit reference) is not cut into windows that
// would pass Luhn by chance one time in ten. The check errs toward refusing:
// about one honest 13-19 digit number in ten passes Luhn.
func ContainsCardNumber(s string) bool {
	var buf [8]group // most runs have few groups: no allocation for them
	groups := buf[:0]
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isDigit(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			groups = append(groups, group{start, i})
			start = -1
		}
		// A single separator between two digits continues the run.
		if i+1 < len(s) && (s[i] == ' ' || s[i] == '-') && len(groups) > 0 &&
			groups[len(groups)-1].end == i && isDigit(s[i+1]) {
			continue
		}
		if anySpanIsPAN(s, groups) {
			return true
		}
		groups = groups[:0]
	}
	return false
}

// group is s[start:end], a maximal sequence of digits.
type group struct{ start, end int }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func anySpanIsPAN(s string, groups []group) bool {
	for i := range groups {
		n := 0
		for j := i; j < len(groups); j++ {
			n += groups[j].end - groups[j].start
			if n > 19 {
				break
			}
			if n >= 13 && luhn(s, groups[i:j+1]) {
				return true
			}
		}
	}
	return false
}

// luhn runs the Luhn checksum over the digits of groups, read in order.
func luhn(s string, groups []group) bool {
	sum, double := 0, false
	for g := len(groups) - 1; g >= 0; g-- {
		for k := groups[g].end - 1; k >= groups[g].start; k-- {
			d := int(s[k] - '0')
			if double {
				if d *= 2; d > 9 {
					d -= 9
				}
			}
			sum += d
			double = !double
		}
	}
	return sum%10 == 0
}
