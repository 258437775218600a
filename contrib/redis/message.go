package riprapredis

import (
	"errors"
	"strconv"
	"strings"
)

// opening is the fleet's state as published on the channel and kept in the
// key: the breaker was opened by origin at epoch, and peers hold theirs
// open until deadline, for at most wait from when they hear of it.
// Deadlines are milliseconds since the Unix epoch on the publisher's clock;
// the wait bounds how much a peer whose clock runs behind can add to it.
type opening struct {
	epoch    int64
	deadline int64 // ms since the Unix epoch
	wait     int64 // ms
	origin   string
	reason   string
}

// msgVersion starts every message, so that a later format can be told
// from this one by peers of mixed versions.
const msgVersion = "v1"

var errBadMessage = errors.New("riprapredis: malformed fleet message")

// parseOpening reads a message published by openScript:
// v1, epoch, deadline, wait, origin and reason, one per line. The reason
// comes last and may be empty; origin and reason never hold a newline
// (see sanitize).
func parseOpening(payload string) (opening, error) {
	f := strings.SplitN(payload, "\n", 6)
	if len(f) != 6 || f[0] != msgVersion {
		return opening{}, errBadMessage
	}
	var o opening
	var err error
	if o.epoch, err = positive(f[1]); err != nil {
		return opening{}, err
	}
	if o.deadline, err = positive(f[2]); err != nil {
		return opening{}, err
	}
	if o.wait, err = positive(f[3]); err != nil {
		return opening{}, err
	}
	o.origin, o.reason = f[4], f[5]
	return o, nil
}

func positive(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errBadMessage
	}
	return n, nil
}

// sanitize keeps a text on one line and short, as the message format needs.
func sanitize(s string) string {
	const maxLen = 200
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") // a cut rune is dropped
	}
	return s
}
