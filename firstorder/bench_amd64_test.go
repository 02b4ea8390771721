//go:build amd64 && !purego

package firstorder

import (
	"fmt"
	"testing"
)

// BenchmarkStepAsmVsGo times the whole Step of the two optimizers that have
// assembly loops, with those loops and with the Go loops they replace, side
// by side in one run so that the ratio (the case for keeping the assembly)
// is measured under the same load. The gradient check runs as it does in
// production in both; -tags purego turns it to Go as well.
func BenchmarkStepAsmVsGo(b *testing.B) {
	if !useAVX2 {
		b.Skip("no AVX2")
	}
	defer func() { useAVX2 = true }()
	for _, c := range []struct {
		name  string
		build func(n int) (Optimizer, error)
	}{{"Adam", adamBench}, {"SGDMomentum", sgdMomentumBench}} {
		for _, n := range []int{1e4, 1e6} {
			for _, asm := range []bool{true, false} {
				loop := map[bool]string{true: "asm", false: "go"}[asm]
				b.Run(fmt.Sprintf("%s/n=%d/%s", c.name, n, loop), func(b *testing.B) {
					useAVX2 = asm
					benchmarkStep(b, n, 1, c.build)
				})
			}
		}
	}
}
