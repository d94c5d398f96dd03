//go:build linux

package handlers

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) this process has used, so
// a benchmark can report the work per request apart from the time spent
// waiting for a CPU on a busy machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
