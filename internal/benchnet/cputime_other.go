//go:build !unix

package benchnet

import "time"

// CPUTime is not measured where getrusage is missing: cpu-ns/op reads 0.
func CPUTime() time.Duration { return 0 }
