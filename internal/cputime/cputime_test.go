package cputime

import (
	"testing"
	"time"
)

// Spinning for 50 ms of wall time takes between 10 ms and a second of
// processor time by the process's own count (up to GOMAXPROCS times the
// wall time with the runtime's threads; at least a fifth of it on a busy
// machine), and the count never goes back.
func TestProcess(t *testing.T) {
	before := Process()
	if before == 0 {
		t.Skip("processor time not measured on this system")
	}
	x := 1.0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x = x*1.0000001 + 1e-9
	}
	d := Process() - before
	if d < 10*time.Millisecond || d > time.Second {
		t.Errorf("spinning 50 ms took %v of processor time (x = %v)", d, x)
	}
}
