package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// corrCase is a convolution's correlation: a C×H×W input, zero-padded by
// pad on each side of its rows (LDX = W + 2·pad) and columns, m kernels of
// kh×kw, n samples in rows padded by extra entries.
type corrCase struct {
	c, h, w, kh, kw, pad, m, n, extra int
}

func (cc corrCase) String() string {
	return fmt.Sprintf("%dx%dx%d,k%dx%d,pad%d,m%d,n%d", cc.c, cc.h, cc.w, cc.kh, cc.kw, cc.pad, cc.m, cc.n)
}

// corr returns the geometry, a random input (zero in the padding) and
// random kernels with a bias, ldw = k+1.
func (cc corrCase) corr(rng *rand.Rand) (Corr, blas64.General, []float64) {
	hp, wp := cc.h+2*cc.pad, cc.w+2*cc.pad
	c := Corr{C: cc.c, H: hp, W: wp, KH: cc.kh, KW: cc.kw}
	cols := cc.c * hp * wp
	x := blas64.General{Rows: cc.n, Cols: cols, Stride: cols + cc.extra, Data: make([]float64, cc.n*(cols+cc.extra))}
	for s := 0; s < cc.n; s++ {
		for ch := 0; ch < cc.c; ch++ {
			for a := cc.pad; a < cc.pad+cc.h; a++ {
				for b := cc.pad; b < cc.pad+cc.w; b++ {
					x.Data[s*x.Stride+(ch*hp+a)*wp+b] = rng.NormFloat64()
				}
			}
		}
	}
	k := cc.c * cc.kh * cc.kw
	w := make([]float64, cc.m*(k+1))
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	return c, x, w
}

var corrCases = []corrCase{
	{1, 28, 28, 5, 5, 0, 6, 3, 0},  // the first LeNet convolution: 24×24 locations, whole vectors and tiles
	{6, 12, 12, 5, 5, 0, 16, 2, 3}, // the second: 8×8, a partial tile of channels
	{3, 7, 6, 3, 3, 1, 5, 2, 1},    // padding, rows of 6 locations: partial vectors
	{2, 9, 20, 2, 4, 2, 13, 1, 0},  // rows of 21: two whole vectors and a partial one
	{1, 3, 3, 3, 3, 0, 1, 4, 2},    // one location, one kernel
	{4, 5, 11, 1, 1, 0, 7, 2, 0},   // 1×1 kernels: k = 4
}

// naiveCorr returns the correlation's outputs and weight gradient for the
// output gradients g by their definitions, summed in plain order.
func naiveCorr(c Corr, w []float64, ldw, m int, bias bool, x, g blas64.General) (y, d []float64) {
	oh, ow, k := c.dims()
	R := oh * ow
	y = make([]float64, x.Rows*m*R)
	d = make([]float64, m*k)
	for s := 0; s < x.Rows; s++ {
		for o := 0; o < m; o++ {
			for a := 0; a < oh; a++ {
				for b := 0; b < ow; b++ {
					v := 0.0
					for ch, p := 0, 0; ch < c.C; ch++ {
						for i := 0; i < c.KH; i++ {
							for j := 0; j < c.KW; j++ {
								xv := x.Data[s*x.Stride+(ch*c.H+a+i)*c.W+b+j]
								v += w[o*ldw+p] * xv
								d[o*k+p] += g.Data[s*g.Stride+o*R+a*ow+b] * xv
								p++
							}
						}
					}
					if bias {
						v += w[o*ldw+k]
					}
					y[(s*m+o)*R+a*ow+b] = v
				}
			}
		}
	}
	return y, d
}

// withTwins runs f with the assembly kernels, where this CPU has them, and
// with the pure-Go twins.
func withTwins(t *testing.T, f func(t *testing.T)) {
	fwd, dot := corrFwdKernel, corrDotKernel
	defer func() { corrFwdKernel, corrDotKernel = fwd, dot }()
	if fwd != nil {
		t.Run("asm", f)
	}
	corrFwdKernel, corrDotKernel = nil, nil
	t.Run("go", f)
}

// CorrForward and CorrGrad against their definitions on every case, with
// and without the bias, storing and adding.
func TestCorr(t *testing.T) { withTwins(t, testCorr) }

func testCorr(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, cc := range corrCases {
		t.Run(cc.String(), func(t *testing.T) {
			c, x, w := cc.corr(rng)
			oh, ow, k := c.dims()
			R := oh * ow
			g := randGeneral(rng, cc.n, cc.m*R, 2)
			for _, bias := range []bool{false, true} {
				want, _ := naiveCorr(c, w, k+1, cc.m, bias, x, g)
				at := func(i int) int { return i/(cc.m*R)*(cc.m*R+1) + i%(cc.m*R) }
				orig := randGeneral(rng, cc.n, cc.m*R, 1)
				y, added := copyGeneral(orig), copyGeneral(orig)
				CorrForward(c, y, w, k+1, cc.m, bias, false, x)
				checkClose(t, "forward", want, func(i int) float64 { return y.Data[at(i)] }, k)
				CorrForward(c, added, w, k+1, cc.m, bias, true, x)
				checkClose(t, "forward, added", want, func(i int) float64 { return added.Data[at(i)] - orig.Data[at(i)] }, k)
				// The padding between rows is not y's.
				for s := 0; s+1 < cc.n; s++ {
					if i := s*y.Stride + cc.m*R; y.Data[i] != orig.Data[i] || added.Data[i] != orig.Data[i] {
						t.Fatalf("CorrForward wrote between rows %d and %d", s, s+1)
					}
				}
			}
			_, wantD := naiveCorr(c, w, k+1, cc.m, false, x, g)
			d := make([]float64, cc.m*(k+2))
			for i := range d {
				d[i] = math.NaN()
			}
			CorrGrad(c, d, k+2, cc.m, false, g, x)
			checkClose(t, "weight gradient", wantD, func(i int) float64 { return d[i/k*(k+2)+i%k] }, R*cc.n)
			for o := 0; o < cc.m; o++ {
				if !math.IsNaN(d[o*(k+2)+k]) || !math.IsNaN(d[o*(k+2)+k+1]) {
					t.Fatalf("CorrGrad wrote beyond the k entries of row %d", o)
				}
			}
		})
	}
}

// checkClose compares got(i) with want[i] to a tolerance for sums of n
// products of standard normals.
func checkClose(t *testing.T, what string, want []float64, got func(int) float64, n int) {
	t.Helper()
	tol := 1e-13 * float64(n+1)
	for i, w := range want {
		if g := got(i); !(math.Abs(g-w) <= tol*(1+math.Abs(w))) {
			t.Fatalf("%s: entry %d = %v, want %v", what, i, g, w)
		}
	}
}

// TestCorrKernelsMatchGo holds the correlation's assembly tiles to the bits
// of their pure-Go twins on random tiles: every mask from none to whole
// vectors, partial tiles of channels, the bias and the accumulation on and
// off, rows of locations with and without a partial vector.
func TestCorrKernelsMatchGo(t *testing.T) {
	if corrFwdKernel == nil {
		t.Skip("no correlation kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	randSlice := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = rng.NormFloat64()
		}
		return s
	}
	sameBits := func(a, b []float64) int {
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				return i
			}
		}
		return -1
	}
	for trial := 0; trial < 200; trial++ {
		k := []int{1, 3, 26, 151, 300}[trial%5]
		const xlen = 4000
		ldw := k + 1 + rng.IntN(3)
		w, x := randSlice(6*ldw), randSlice(xlen)
		off := make([]int, k)
		for p := range off {
			off[p] = rng.IntN(xlen - 2000)
		}
		var xpos, ypos [4]int
		var masks [4]uint16
		for j := range xpos {
			xpos[j], ypos[j] = rng.IntN(1990), 100*j+rng.IntN(90)
			masks[j] = uint16(rng.IntN(256))
		}
		masks[trial%4] = 0xff
		ldy, rows, flags := 400+rng.IntN(5), 1+rng.IntN(6), rng.IntN(4)
		y := randSlice(6 * ldy)
		want := append([]float64(nil), y...)
		corrFwdGo(k, w, ldw, off, x, xpos, masks, want, ldy, ypos, rows, flags)
		corrFwdKernel(k, &w[0], ldw, &off[0], &x[0], &xpos, &masks, &y[0], ldy, &ypos, rows, flags)
		if i := sameBits(y, want); i >= 0 {
			t.Fatalf("trial %d: corrFwd6x4 gives y[%d] = %v, corrFwdGo %v", trial, i, y[i], want[i])
		}

		ns, oh, nfull := 1+rng.IntN(3), 1+rng.IntN(4), rng.IntN(4)
		tail := rng.IntN(256)
		if trial%3 == 0 {
			tail = 0
		}
		if nfull == 0 && tail == 0 {
			nfull = 1
		}
		nv := nfull + b2i(tail != 0)
		ldx, ldg := 8*nv+rng.IntN(9), oh*8*nv
		gs, xs := 6*ldg+rng.IntN(4), 600+rng.IntN(4)
		var doff [4]int
		for j := range doff {
			doff[j] = rng.IntN(100)
		}
		g, xd := randSlice(ns*gs), randSlice(ns*xs)
		lanes, add := randSlice(corrLanes), rng.IntN(2)
		wantL := append([]float64(nil), lanes...)
		corrDotGo(ns, g, gs, ldg, xd, xs, ldx, doff, oh, nfull, tail, wantL, add == 1)
		corrDotKernel(ns, &g[0], gs, ldg, &xd[0], xs, ldx, &doff, oh, nfull, tail, &lanes[0], add)
		if i := sameBits(lanes, wantL); i >= 0 {
			t.Fatalf("trial %d: corrDot6x4 gives lane %d = %v, corrDotGo %v", trial, i, lanes[i], wantL[i])
		}
	}
}

// CorrForward sums as a product of the unfolded patches with Gemm's
// kernels does, bias last: the two give the same bits (k + 1 ≤ 256, one
// block of the inner dimension), with and without adding to what y holds.
func TestCorrForwardMatchesGemm(t *testing.T) {
	if active == nil {
		t.Skip("no Gemm kernel: blas64 sums in another order")
	}
	withTwins(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, cc := range corrCases {
			c, x, w := cc.corr(rng)
			oh, ow, k := c.dims()
			R := oh * ow
			// Row s·R + r of the unfolded matrix is location r's patch of
			// sample s, then a 1.
			u := blas64.General{Rows: cc.n * R, Cols: k + 1, Stride: k + 1, Data: make([]float64, cc.n*R*(k+1))}
			for s := 0; s < cc.n; s++ {
				for a := 0; a < oh; a++ {
					for b := 0; b < ow; b++ {
						row := u.Data[(s*R+a*ow+b)*(k+1):]
						for ch, p := 0, 0; ch < c.C; ch++ {
							for i := 0; i < c.KH; i++ {
								for j := 0; j < c.KW; j++ {
									row[p] = x.Data[s*x.Stride+(ch*c.H+a+i)*c.W+b+j]
									p++
								}
							}
						}
						row[k] = 1
					}
				}
			}
			for _, add := range []bool{false, true} {
				prod := randGeneral(rng, cc.n*R, cc.m, 0)
				y := blas64.General{Rows: cc.n, Cols: cc.m * R, Stride: cc.m * R, Data: make([]float64, cc.n*cc.m*R)}
				for s := 0; s < cc.n; s++ {
					for o := 0; o < cc.m; o++ {
						for r := 0; r < R; r++ {
							y.Data[s*y.Stride+o*R+r] = prod.Data[(s*R+r)*cc.m+o]
						}
					}
				}
				beta := 0.0
				if add {
					beta = 1
				}
				Gemm(blas.NoTrans, blas.Trans, 1, u, blas64.General{Rows: cc.m, Cols: k + 1, Stride: k + 1, Data: w}, beta, prod)
				CorrForward(c, y, w, k+1, cc.m, true, add, x)
				for s := 0; s < cc.n; s++ {
					for o := 0; o < cc.m; o++ {
						for r := 0; r < R; r++ {
							got, want := y.Data[s*y.Stride+o*R+r], prod.Data[(s*R+r)*cc.m+o]
							if math.Float64bits(got) != math.Float64bits(want) {
								t.Fatalf("%v add %t: sample %d channel %d location %d: %v, Gemm gives %v", cc, add, s, o, r, got, want)
							}
						}
					}
				}
			}
		}
	})
}

// One correlation used by several goroutines at once gives each the
// numbers it gives alone: the work space is never shared.
func TestCorrConcurrent(t *testing.T) {
	cc := corrCases[2]
	rng := rand.New(rand.NewPCG(17, 18))
	c, _, w := cc.corr(rng)
	oh, ow, k := c.dims()
	const workers = 8
	type result struct{ y, d []float64 }
	xs, gs := make([]blas64.General, workers), make([]blas64.General, workers)
	want := make([]result, workers)
	for i := range xs {
		_, xs[i], _ = cc.corr(rng)
		gs[i] = randGeneral(rng, cc.n, cc.m*oh*ow, 0)
		want[i].y, want[i].d = corrRun(c, w, k, cc.m, xs[i], gs[i])
	}
	got := make([]result, workers)
	var wg sync.WaitGroup
	for i := range xs {
		wg.Go(func() {
			for range 20 {
				got[i].y, got[i].d = corrRun(c, w, k, cc.m, xs[i], gs[i])
			}
		})
	}
	wg.Wait()
	for i := range got {
		if !slices.Equal(got[i].y, want[i].y) || !slices.Equal(got[i].d, want[i].d) {
			t.Fatalf("worker %d: results differ from those computed alone", i)
		}
	}
}

func corrRun(c Corr, w []float64, k, m int, x, g blas64.General) (y, d []float64) {
	oh, ow, _ := c.dims()
	yg := blas64.General{Rows: x.Rows, Cols: m * oh * ow, Stride: m * oh * ow, Data: make([]float64, x.Rows*m*oh*ow)}
	CorrForward(c, yg, w, k+1, m, true, false, x)
	d = make([]float64, m*k)
	CorrGrad(c, d, k, m, false, g, x)
	return yg.Data, d
}

// Operands that do not fit the correlation, or whose data is shorter than
// their shape, are refused before any kernel runs.
func TestCorrBadShapes(t *testing.T) {
	c := Corr{C: 1, H: 6, W: 6, KH: 3, KW: 3} // 4×4 locations, k = 9
	x := blas64.General{Rows: 2, Cols: 36, Stride: 36, Data: make([]float64, 72)}
	y := blas64.General{Rows: 2, Cols: 32, Stride: 32, Data: make([]float64, 64)} // 2 channels
	w := make([]float64, 20)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"kernel larger than the input", func() { CorrForward(Corr{C: 1, H: 2, W: 6, KH: 3, KW: 3}, y, w, 10, 2, true, false, x) }},
		{"input of the wrong width", func() { CorrForward(Corr{C: 1, H: 6, W: 5, KH: 3, KW: 3}, y, w, 10, 2, true, false, x) }},
		{"short input", func() {
			CorrForward(c, y, w, 10, 2, true, false, blas64.General{Rows: 2, Cols: 36, Stride: 36, Data: x.Data[:71]})
		}},
		{"short output", func() {
			CorrForward(c, blas64.General{Rows: 2, Cols: 32, Stride: 32, Data: y.Data[:63]}, w, 10, 2, true, false, x)
		}},
		{"too few kernels", func() { CorrForward(c, y, w[:19], 10, 2, true, false, x) }},
		{"rows differ", func() {
			CorrForward(c, blas64.General{Rows: 1, Cols: 32, Stride: 32, Data: y.Data}, w, 10, 2, true, false, x)
		}},
		{"short gradient", func() {
			CorrGrad(c, w, 10, 2, false, blas64.General{Rows: 2, Cols: 32, Stride: 32, Data: y.Data[:40]}, x)
		}},
		{"short destination", func() { CorrGrad(c, w[:18], 10, 2, false, y, x) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.f()
		})
	}
}
