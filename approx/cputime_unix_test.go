//go:build unix

package approx

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used. The machines these
// benchmarks run on are shared, so wall-clock ns/op can be inflated by
// other load; cpu-ns/op (reported by cpuTimer) is the steadier figure.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
