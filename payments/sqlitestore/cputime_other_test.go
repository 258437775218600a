//go:build !unix

package sqlitestore_test

import (
	"testing"
	"time"
)

// cpuTime is not measured here: the benchmark reports 0 CPU per payment.
func cpuTime(*testing.B) time.Duration { return 0 }
