package vmath

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// function is one of the package's functions with the kernels' scalar
// form, its correctly rounded reference (oracle_test.go), its form on the
// math package, and the bounds the package doc states, in ulps of the
// correctly rounded result: of the kernels and of the math package's
// forms, which run without them.
type function struct {
	name         string
	vec          func(dst, x []float64)
	scalar       func(float64) float64
	ref          func(float64) float64
	math         func(float64) float64
	ulps, goUlps int64
	// sweep lists the ranges of the dense sweeps: where the function
	// varies, with each range's breakpoints (reduction boundaries,
	// saturation, underflow) inside it.
	sweep [][2]float64
}

var functions = []function{
	{"Exp", Exp, exp1, expRef, math.Exp, 1, 1,
		[][2]float64{{-1, 1}, {-30, 30}, {-746, -700}, {700, 710}, {-746, 710}}},
	{"Tanh", Tanh, tanh1, tanhRef, math.Tanh, 2, 1,
		[][2]float64{{-1, 1}, {-0.05, 0.05}, {-4, 4}, {17, 21}, {-21, -17}}},
	{"Sigmoid", Sigmoid, sigmoid1, sigmoidRef, sigmoidGo, 2, 2,
		[][2]float64{{-1, 1}, {-8, 8}, {30, 40}, {-746, -700}, {-746, 40}}},
	{"Softplus", Softplus, softplus1, softplusRef, softplusGo, 1, 2,
		[][2]float64{{-1, 1}, {-8, 8}, {30, 40}, {-746, -700}, {-746, 40}}},
}

// bound is f's bound for the implementation selected.
func (f function) bound() int64 {
	if usingKernel() {
		return f.ulps
	}
	return f.goUlps
}

// ulpDist is the number of float64 steps between got and want (0 for two
// NaNs; the distance across zero counts the steps on both sides).
func ulpDist(got, want float64) int64 {
	if math.IsNaN(got) || math.IsNaN(want) {
		if math.IsNaN(got) && math.IsNaN(want) {
			return 0
		}
		return math.MaxInt64
	}
	ord := func(v float64) int64 { // monotone in v, consecutive for neighbours
		b := int64(math.Float64bits(v) &^ (1 << 63))
		if math.Signbit(v) {
			return -b
		}
		return b
	}
	d := ord(got) - ord(want)
	if d < 0 {
		return -d
	}
	return d
}

// Special values: what IEEE arithmetic and the limits say, exactly, and
// the thresholds of overflow, underflow and saturation within the bound
// of the reference.
func TestSpecialValues(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	const tiny = 5e-324 // the smallest subnormal
	exact := []struct {
		f    string
		x, y float64
	}{
		{"Exp", nan, nan}, {"Exp", inf, inf}, {"Exp", -inf, 0}, {"Exp", 0, 1}, {"Exp", math.Copysign(0, -1), 1},
		{"Exp", tiny, 1}, {"Exp", -tiny, 1}, {"Exp", 1, math.E}, {"Exp", 710, inf}, {"Exp", 1e300, inf},
		{"Exp", -746, 0}, {"Exp", -1e300, 0}, {"Exp", math.MaxFloat64, inf},
		{"Tanh", nan, nan}, {"Tanh", inf, 1}, {"Tanh", -inf, -1}, {"Tanh", 0, 0}, {"Tanh", math.Copysign(0, -1), math.Copysign(0, -1)},
		{"Tanh", tiny, tiny}, {"Tanh", -tiny, -tiny}, {"Tanh", 1e-300, 1e-300}, {"Tanh", 20, 1}, {"Tanh", -25, -1},
		{"Tanh", 1e300, 1}, {"Tanh", -math.MaxFloat64, -1},
		{"Sigmoid", nan, nan}, {"Sigmoid", inf, 1}, {"Sigmoid", -inf, 0}, {"Sigmoid", 0, 0.5}, {"Sigmoid", math.Copysign(0, -1), 0.5},
		{"Sigmoid", tiny, 0.5}, {"Sigmoid", 37, 1}, {"Sigmoid", 1e300, 1}, {"Sigmoid", -746, 0}, {"Sigmoid", -1e300, 0},
		{"Softplus", nan, nan}, {"Softplus", inf, inf}, {"Softplus", -inf, 0}, {"Softplus", 0, math.Ln2},
		{"Softplus", 40, 40}, {"Softplus", 1e300, 1e300}, {"Softplus", math.MaxFloat64, math.MaxFloat64},
		{"Softplus", -746, 0}, {"Softplus", -1e300, 0},
	}
	byName := map[string]function{}
	for _, f := range functions {
		byName[f.name] = f
	}
	forEachKernel(t, func(t *testing.T) { specialValues(t, byName, exact) })
}

func specialValues(t *testing.T, byName map[string]function, exact []struct {
	f    string
	x, y float64
}) {
	for _, c := range exact {
		f := byName[c.f]
		got := make([]float64, 1)
		f.vec(got, []float64{c.x})
		assert.Zero(t, ulpDist(got[0], c.y), "%s(%v) = %v, want %v", c.f, c.x, got[0], c.y)
		if !math.IsNaN(c.y) {
			assert.Equal(t, math.Signbit(c.y), math.Signbit(got[0]), "%s(%v): sign", c.f, c.x)
		}
		if usingKernel() {
			assert.Zero(t, ulpDist(f.scalar(c.x), c.y), "scalar %s(%v)", c.f, c.x)
		}
	}

	// Thresholds, each with its neighbours on both sides.
	thresholds := map[string][]float64{
		"Exp": {
			709.782712893384,                                                 // the largest x with a finite e^x
			-708.3964185322641,                                               // e^x at the smallest normal
			-745.1332191019411,                                               // e^x at the smallest subnormal
			-745.1332191019412076,                                            // half of it: the rounding to 0
			-0.5 * math.Ln2, 0.5 * math.Ln2, 1.5 * math.Ln2, -1.5 * math.Ln2, // where the reduction's k changes
		},
		"Tanh":     {19.061547465398498, -19.061547465398498, 0.625, 0.5 * math.Ln2 / 2, 1e-8, 0x1p-1022, -0x1p-1022},
		"Sigmoid":  {36.7368005696771, -708.3964185322641, -709.782712893384, -745.1332191019411, 0x1p-1022},
		"Softplus": {36.7368005696771, 0.5 * math.Ln2, -0.6931471805599453, -708.3964185322641, -745.1332191019411},
	}
	for _, f := range functions {
		for _, x0 := range thresholds[f.name] {
			x := x0
			for range 3 {
				x = math.Nextafter(x, math.Inf(-1))
			}
			for range 7 {
				got := make([]float64, 1)
				f.vec(got, []float64{x})
				want := f.ref(x)
				assert.LessOrEqual(t, ulpDist(got[0], want), f.bound(), "%s(%v) = %v, want %v", f.name, x, got[0], want)
				x = math.Nextafter(x, math.Inf(1))
			}
		}
	}
}

// Dense sweeps against the correctly rounded reference, under each
// implementation: each range on an even grid, then at random points, and
// at x = ±2^u with u uniform over the whole exponent range, for the tiny
// and the huge arguments.
func TestAccuracy(t *testing.T) {
	grid := 1000
	if testing.Short() {
		grid = 300
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, f := range functions {
		t.Run(f.name, func(t *testing.T) { accuracy(t, f, grid, rng) })
	}
}

func accuracy(t *testing.T, f function, grid int, rng *rand.Rand) {
	var x []float64
	for _, r := range f.sweep {
		for i := 0; i <= grid; i++ {
			x = append(x, r[0]+(r[1]-r[0])*float64(i)/float64(grid))
			x = append(x, r[0]+(r[1]-r[0])*rng.Float64())
		}
	}
	for i := 0; i < grid; i++ {
		x = append(x, math.Copysign(math.Ldexp(1+rng.Float64(), rng.IntN(1085)-1075), rng.Float64()-0.5))
	}
	want := make([]float64, len(x))
	for i, v := range x {
		want[i] = f.ref(v)
	}
	forEachKernel(t, func(t *testing.T) {
		got := make([]float64, len(x))
		f.vec(got, x)
		var worst int64
		for i, v := range x {
			d := ulpDist(got[i], want[i])
			if d > f.bound() {
				t.Errorf("%s(%v) = %v, %d ulp from %v", f.name, v, got[i], d, want[i])
			}
			worst = max(worst, d)
		}
		t.Logf("%s: %d points, at most %d ulp from the correctly rounded value", f.name, len(x), worst)
	})
}

// Against the math package, on 2^20 evenly spaced points of each
// function's widest range (and 2^20 log-spaced magnitudes): the distance is
// at most the bound plus the error of the math package's own result (up to
// 1 ulp for Exp and Tanh, 2 for sigmoidGo and softplusGo, the math
// package's forms), so at most bound+2. math.Exp on amd64 returns +Inf from
// x = 709.44 on, below the true overflow at 709.78: the Exp sweep stops
// there.
func TestAgainstMath(t *testing.T) {
	n := 1 << 20
	if testing.Short() {
		n = 1 << 15
	}
	for _, f := range functions {
		t.Run(f.name, func(t *testing.T) {
			r := f.sweep[len(f.sweep)-1]
			if f.name == "Exp" {
				r[1] = 709.43
			}
			x := make([]float64, 2*n)
			for i := 0; i < n; i++ {
				x[i] = r[0] + (r[1]-r[0])*float64(i)/float64(n-1)
				// ±2^u, u from −1074 to 9
				x[n+i] = math.Copysign(math.Exp2(-1074+1083*float64(i)/float64(n-1)), float64(i%2)-0.5)
			}
			got := make([]float64, len(x))
			f.vec(got, x)
			var worst int64
			for i, v := range x {
				d := ulpDist(got[i], f.math(v))
				if d > f.ulps+2 {
					t.Fatalf("%s(%v) = %v, %d ulp from the math package's %v", f.name, v, got[i], d, f.math(v))
				}
				worst = max(worst, d)
			}
			t.Logf("%s: at most %d ulp from the math package", f.name, worst)
		})
	}
}

// The scalar functions are the kernels' specification: dst[i] =
// scalar(x[i]) bit for bit (NaNs aside), for every length, with dst and x
// the same slice or not, writing nothing past len(dst).
func TestVectorMatchesScalar(t *testing.T) { forEachKernel(t, vectorMatchesScalar) }

func vectorMatchesScalar(t *testing.T) {
	if !usingKernel() {
		t.Skip("no kernel: the math package's forms run")
	}
	rng := rand.New(rand.NewPCG(2, 1))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 5e-324, -5e-324, 800, -800}
	for _, f := range functions {
		for n := 0; n <= 37; n++ {
			x := make([]float64, n)
			for i := range x {
				if rng.IntN(8) == 0 {
					x[i] = special[rng.IntN(len(special))]
				} else {
					x[i] = 30 * rng.NormFloat64()
				}
			}
			const guard = 123.25
			dst := make([]float64, n+8)
			for i := range dst {
				dst[i] = guard
			}
			f.vec(dst[:n], x)
			inPlace := append([]float64(nil), x...)
			f.vec(inPlace, inPlace)
			for i, v := range x {
				want := f.scalar(v)
				if ulpDist(dst[i], want) != 0 || ulpDist(inPlace[i], want) != 0 {
					t.Fatalf("%s, length %d: entry %d (x = %v) is %v (in place %v), scalar %v", f.name, n, i, v, dst[i], inPlace[i], want)
				}
			}
			for i := n; i < len(dst); i++ {
				if dst[i] != guard {
					t.Fatalf("%s, length %d: wrote entry %d", f.name, n, i)
				}
			}
		}
		// Random bit patterns: every exponent, NaNs with payloads,
		// subnormals.
		x := make([]float64, 1<<16)
		for i := range x {
			x[i] = math.Float64frombits(rng.Uint64())
		}
		got := make([]float64, len(x))
		f.vec(got, x)
		for i, v := range x {
			if ulpDist(got[i], f.scalar(v)) != 0 {
				t.Fatalf("%s(%v) = %v, scalar %v", f.name, v, got[i], f.scalar(v))
			}
		}
	}
}

// The backward passes against their formulas, term by term in the same
// order (which is how curvature/nn computed them before): the same bits,
// for every length, with dst aliasing either input or neither.
func TestBackward(t *testing.T) { forEachKernel(t, backward) }

func backward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for _, c := range []struct {
		name string
		vec  func(dst, y, g []float64)
		want func(y, g float64) float64
	}{
		{"TanhBackward", TanhBackward, func(y, g float64) float64 { d := 1 - float64(y*y); return d * g }},
		{"SigmoidBackward", SigmoidBackward, func(y, g float64) float64 { d := y * (1 - y); return d * g }},
	} {
		for n := 0; n <= 37; n++ {
			y, g := make([]float64, n), make([]float64, n)
			for i := range y {
				y[i], g[i] = 2*rng.Float64()-1, rng.NormFloat64()
			}
			dst := make([]float64, n+8)
			c.vec(dst[:n], y, g)
			onY, onG := append([]float64(nil), y...), append([]float64(nil), g...)
			c.vec(onY, onY, g)
			c.vec(onG, y, onG)
			for i := range y {
				w := c.want(y[i], g[i])
				if dst[i] != w || onY[i] != w || onG[i] != w {
					t.Fatalf("%s, length %d, entry %d: %v (on y %v, on g %v), want %v", c.name, n, i, dst[i], onY[i], onG[i], w)
				}
			}
			for i := n; i < len(dst); i++ {
				if dst[i] != 0 {
					t.Fatalf("%s, length %d: wrote entry %d", c.name, n, i)
				}
			}
		}
	}
}

// Add against the sum entry by entry, for every length, in place or not.
func TestAdd(t *testing.T) { forEachKernel(t, addTest) }

func addTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for n := 0; n <= 37; n++ {
		x, d := make([]float64, n), make([]float64, n+8)
		for i := range x {
			x[i], d[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		want := append([]float64(nil), d...)
		for i, v := range x {
			want[i] += v
		}
		twice := append([]float64(nil), x...)
		Add(d[:n], x)
		Add(twice, twice)
		for i := range d {
			if d[i] != want[i] || i < n && twice[i] != x[i]+x[i] {
				t.Fatalf("length %d, entry %d: %v (in place %v), want %v", n, i, d[i], twice[i], want[i])
			}
		}
	}
}

func TestLengthMismatch(t *testing.T) {
	for _, f := range functions {
		assert.PanicsWithValue(t, "vmath: destination of length 2 for 3 inputs", func() { f.vec(make([]float64, 2), make([]float64, 3)) }, f.name)
	}
	a, b := make([]float64, 3), make([]float64, 2)
	assert.PanicsWithValue(t, "vmath: lengths 3, 3 and 2 differ", func() { TanhBackward(a, a, b) })
	assert.PanicsWithValue(t, "vmath: lengths 2, 3 and 3 differ", func() { SigmoidBackward(b, a, a) })
	assert.PanicsWithValue(t, "vmath: destination of length 3 for 2 inputs", func() { Add(a, b) })
}

func TestNoAllocation(t *testing.T) { forEachKernel(t, noAllocation) }

func noAllocation(t *testing.T) {
	x := benchInput(-5, 5)[:100]
	dst := make([]float64, len(x))
	for _, f := range functions {
		assert.Zero(t, testing.AllocsPerRun(10, func() { f.vec(dst, x) }), f.name)
	}
	assert.Zero(t, testing.AllocsPerRun(10, func() { TanhBackward(dst, x, x) }))
	assert.Zero(t, testing.AllocsPerRun(10, func() { SigmoidBackward(dst, x, x) }))
	assert.Zero(t, testing.AllocsPerRun(10, func() { Add(dst, x) }))
}

// forEachKernel runs f under each implementation this CPU can run.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	eachKernel(func(name string) { t.Run(name, f) })
}
