//go:build unix

package curvature

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used: on a shared machine,
// other load inflates wall-clock ns/op far more than cpu-ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
