//go:build !unix

package curvature

import "time"

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
