package spectral

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
)

// decodeLanczos turns fuzz bytes into a problem: data[0] gives n ∈ 1…6,
// data[1] K ∈ 1…n, data[2] Which (low bit) and MaxSteps (K + data[2]/2
// when data[2]/2 ≥ 1, else the default), data[3] a decimal scale
// 10^−6…10^6, data[4] the seed, then the upper triangle as big-endian
// int16/256 (missing bytes read as 0).
func decodeLanczos(data []byte) (a *mat.SymDense, l *Lanczos) {
	at := func(i int) byte {
		if i < len(data) {
			return data[i]
		}
		return 0
	}
	n := 1 + int(at(0)%6)
	k := 1 + int(at(1))%n
	scale := math.Pow(10, float64(int(at(3)%13)-6))
	a = mat.NewSymDense(n, nil)
	idx := 0
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := int16(binary.BigEndian.Uint16([]byte{at(5 + 2*idx), at(6 + 2*idx)}))
			a.SetSym(i, j, scale*float64(v)/256)
			idx++
		}
	}
	l = &Lanczos{K: k, Which: Which(at(2) & 1), Seed: uint64(at(4))}
	if extra := int(at(2) / 2 % 8); extra > 0 {
		l.MaxSteps = k + extra - 1
	}
	return a, l
}

// FuzzLanczos runs Lanczos on arbitrary small symmetric matrices and
// checks what holds whatever the matrix: no panic or hang, an error only
// ErrNotConverged (with the pairs), unit vectors, reported residuals equal
// to recomputed ones, every Ritz value within its residual of an
// eigenvalue of the dense decomposition (θ is a Rayleigh quotient of a
// unit vector), the wanted order, and the convergence count consistent
// with the residuals.
func FuzzLanczos(f *testing.F) {
	f.Add([]byte{3, 1, 0, 6, 1, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, l := decodeLanczos(data)
		n := a.SymmetricDim()
		ref := denseEig(a)
		anorm := maxAbs(ref)
		res, err := l.Eigen(curvature.NewDense(a))
		if err != nil && !errors.Is(err, ErrNotConverged) {
			t.Fatalf("Lanczos: %v", err)
		}
		if res == nil {
			t.Fatalf("no result with %v", err)
		}
		if err == nil && res.Converged != l.K {
			t.Errorf("no error but %d of %d converged", res.Converged, l.K)
		}
		if len(res.Values) != l.K || len(res.Residuals) != l.K {
			t.Fatalf("%d values, %d residuals for K = %d", len(res.Values), len(res.Residuals), l.K)
		}
		tol := 1e-10*anorm + 1e-300
		for i, theta := range res.Values {
			v := mat.Col(nil, i, res.Vectors)
			if math.Abs(floats.Norm(v, 2)-1) > 1e-10 {
				t.Errorf("vector %d has norm %v", i, floats.Norm(v, 2))
			}
			if r := residual(a, res.Vectors, i, theta); math.Abs(r-res.Residuals[i]) > tol {
				t.Errorf("pair %d: reported residual %v, recomputed %v", i, res.Residuals[i], r)
			}
			dist := math.Inf(1)
			for _, lam := range ref {
				dist = math.Min(dist, math.Abs(theta-lam))
			}
			if dist > res.Residuals[i]+tol {
				t.Errorf("θ_%d = %v is %v from the spectrum %v, residual %v", i, theta, dist, ref, res.Residuals[i])
			}
			if i > 0 && ((l.Which == Largest && theta > res.Values[i-1]) || (l.Which == Smallest && theta < res.Values[i-1])) {
				t.Errorf("values out of order: %v", res.Values)
			}
		}
		if res.Steps > n || res.Steps < 1 {
			t.Errorf("%d steps for n = %d", res.Steps, n)
		}
	})
}
