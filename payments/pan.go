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
	var groups [][]byte // the digits of each group of the current run
	var cur []byte
	flush := func() bool {
		if len(cur) > 0 {
			groups = append(groups, cur)
			cur = nil
		}
		found := anySpanIsPAN(groups)
		groups = groups[:0]
		return found
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			cur = append(cur, c)
		case (c == ' ' || c == '-') && len(cur) > 0 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			groups = append(groups, cur) // a single separator between digits continues the run
			cur = nil
		default:
			if flush() {
				return true
			}
		}
	}
	return flush()
}

func anySpanIsPAN(groups [][]byte) bool {
	for i := range groups {
		n := 0
		for j := i; j < len(groups); j++ {
			n += len(groups[j])
			if n > 19 {
				break
			}
			if n >= 13 && luhn(groups[i:j+1]) {
				return true
			}
		}
	}
	return false
}

// luhn runs the Luhn checksum over the digits of groups, read in order.
func luhn(groups [][]byte) bool {
	sum, double := 0, false
	for g := len(groups) - 1; g >= 0; g-- {
		for k := len(groups[g]) - 1; k >= 0; k-- {
			d := int(groups[g][k] - '0')
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
