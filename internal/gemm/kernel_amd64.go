//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// tilings lists the micro-kernels this CPU runs, fastest first: the
// 12×16 AVX-512 tile of kernel512_amd64.s, with its 8×16, 4×16 and 1×16
// tiles for a block's last rows and the 12×8 tile of kernel12x8_amd64.s for
// products of at most 8 columns (which it would fill to half or less), and
// the 4×12 AVX2 tile of kernel_amd64.s.
var tilings = available()

func available() []*tiling {
	var t []*tiling
	if cpu.X86.HasAVX512F {
		narrow := &tiling{mr: 12, nr: 8, mc: 132, nc: 1024, kernel: kernel12x8}
		t = append(t, &tiling{mr: 12, nr: 16, mc: 132, nc: 1024, kernel: kernel12x16, narrow: narrow,
			edges: []edge{{8, kernel8x16}, {4, kernel4x16}, {1, kernel1x16}}})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		t = append(t, &tiling{mr: 4, nr: 12, mc: 128, nc: 1020, kernel: kernel4x12})
	}
	return t
}

// kernel4x12 stores α·Σ_p a[i·rs+p·ks]·b[12p+j] + β·c[i·ldc+j] in
// c[i·ldc+j] for i < 4, j < 12, p < kc: b is a packed panel, a any
// strided 4×kc block. β = 0 does not read c.
//
//go:noescape
func kernel4x12(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)

// kernel12x16 is kernel4x12 for a 12×16 tile.
//
//go:noescape
func kernel12x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)

// kernel12x8 is kernel4x12 for a 12×8 tile.
//
//go:noescape
func kernel12x8(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)

// kernel8x16 is kernel4x12 for an 8×16 tile.
//
//go:noescape
func kernel8x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)

// kernel4x16 is kernel4x12 for a 4×16 tile.
//
//go:noescape
func kernel4x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)

// kernel1x16 is kernel4x12 for a 1×16 tile.
//
//go:noescape
func kernel1x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)
