//go:build unix

package benchnet

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time this process has used. The machines the
// benchmarks run on are shared, so wall-clock ns/op can be inflated by
// other load; cpu-ns/op, the difference of two CPUTimes over b.N, is the
// steadier figure.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
