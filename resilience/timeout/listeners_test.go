package timeout_test

import (
	"github.com/riprap-go/riprap/resilience"
)

// only narrows a listener to the given kinds of events.
func only(l resilience.Listener, kinds ...resilience.EventKind) resilience.Listener {
	l.Kinds = resilience.KindsOf(kinds...)
	return l
}
