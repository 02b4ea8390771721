package secondorder

import (
	"encoding/binary"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/vec"
)

// decodeSubproblem turns fuzz bytes into a subproblem: data[0] gives
// n ∈ 1…4, data[1] and data[2] decimal scales 10^−4…10^4 of M and g,
// data[3] the radius 10^−3…10^3, then the upper triangle of M and g as
// big-endian int16/256 (missing bytes read as 0).
func decodeSubproblem(data []byte) (a *mat.SymDense, g []float64, radius float64) {
	at := func(i int) byte {
		if i < len(data) {
			return data[i]
		}
		return 0
	}
	val := func(k int) float64 {
		return float64(int16(binary.BigEndian.Uint16([]byte{at(4 + 2*k), at(5 + 2*k)}))) / 256
	}
	n := 1 + int(at(0)%4)
	sm := math.Pow(10, float64(int(at(1)%9)-4))
	sg := math.Pow(10, float64(int(at(2)%9)-4))
	radius = math.Pow(10, float64(int(at(3)%13)-6)/2)
	a = mat.NewSymDense(n, nil)
	k := 0
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, sm*val(k))
			k++
		}
	}
	g = make([]float64, n)
	for i := range g {
		g[i] = sg * val(k)
		k++
	}
	return a, g, radius
}

// FuzzSubproblem runs every subproblem solver on arbitrary small symmetric
// matrices and checks: no error, a finite step within the radius, a
// reported decrease equal to the model's, at least the Cauchy decrease and
// the fraction ½‖g‖min(Δ, ‖g‖/‖M‖) of Nocedal & Wright's Lemma 4.3, and no
// solver below the exact one.
func FuzzSubproblem(f *testing.F) {
	f.Add([]byte{1, 4, 4, 6, 0xff, 0, 0, 0, 2, 0, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, g, radius := decodeSubproblem(data)
		n := len(g)
		var eig mat.EigenSym
		if !eig.Factorize(a, false) {
			t.Skip("reference eigendecomposition failed")
		}
		vals := eig.Values(nil)
		mnorm := math.Max(math.Abs(vals[0]), math.Abs(vals[n-1]))
		gn := floats.Norm(g, 2)
		scale := gn*radius + mnorm*radius*radius
		tol := 1e-9*scale + 1e-300
		op := curvature.NewDense(a)

		cp := make([]float64, n)
		if _, err := (&Cauchy{}).Solve(cp, op, g, radius); err != nil {
			t.Fatalf("cauchy: %v", err)
		}
		cauchyDec := -modelValue(a, g, cp)
		fraction := 0.0
		if gn > 0 {
			fraction = 0.5 * gn * radius
			if mnorm > 0 {
				fraction = 0.5 * gn * math.Min(radius, gn/mnorm)
			}
		}
		ep := make([]float64, n)
		if _, err := tightExact().Solve(ep, op, g, radius); err != nil {
			t.Fatalf("exact: %v", err)
		}
		exactDec := -modelValue(a, g, ep)

		for _, s := range allSolvers() {
			p := make([]float64, n)
			info, err := s.new().Solve(p, op, g, radius)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if i := vec.FirstNonFinite(p); i >= 0 {
				t.Fatalf("%s: step has %v", s.name, p[i])
			}
			if nrm := floats.Norm(p, 2); nrm > radius*(1+1e-10) {
				t.Fatalf("%s: ‖p‖ = %v > Δ = %v", s.name, nrm, radius)
			}
			dec := -modelValue(a, g, p)
			if math.Abs(dec-info.Decrease) > tol {
				t.Errorf("%s: reported decrease %v, model %v", s.name, info.Decrease, dec)
			}
			if dec < cauchyDec-tol {
				t.Errorf("%s: decrease %v below Cauchy's %v", s.name, dec, cauchyDec)
			}
			if dec < fraction-tol {
				t.Errorf("%s: decrease %v below ½‖g‖min(Δ, ‖g‖/‖M‖) = %v", s.name, dec, fraction)
			}
			if dec > exactDec+tol {
				t.Errorf("%s: decrease %v beats the exact solver's %v", s.name, dec, exactDec)
			}
		}
	})
}
