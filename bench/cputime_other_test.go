//go:build !linux

package bench

import "time"

// Elsewhere no CPU time is read, and the cpu-ns/op metric is left out.
func threadCPU() time.Duration  { return 0 }
func processCPU() time.Duration { return 0 }
