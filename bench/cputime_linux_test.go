package bench

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used, and
// processCPU the process's; both are zero when the kernel refuses.
func threadCPU() time.Duration  { return rusage(syscall.RUSAGE_THREAD) }
func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(who, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
