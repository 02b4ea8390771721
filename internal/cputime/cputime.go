// Package cputime reads the processor time of the running process, for
// benchmarks on shared machines: other processes' load moves a
// benchmark's wall time a good deal more than the processor time its own
// work takes.
package cputime

import "time"

// Process returns the processor time the process has used so far, user
// and system, every thread's; 0 where it is not measured.
func Process() time.Duration { return process() }
