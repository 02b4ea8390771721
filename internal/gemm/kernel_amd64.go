//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// hasKernel selects the assembly micro-kernel of kernel_amd64.s.
var hasKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel4x12 stores α·Σ_p a[4p+i]·b[12p+j] + β·c[i·ldc+j] in c[i·ldc+j]
// for i < 4, j < 12: a and b are packed panels of kc steps. β = 0 does not
// read c.
//
//go:noescape
func kernel4x12(kc int, a, b, c *float64, ldc int, alpha, beta float64)
