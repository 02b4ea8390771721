package curvature

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// FuzzLabels sends arbitrary labels and an arbitrary input entry through
// validation and the matrices of a 2-3-2 network for each loss: a batch
// Validate refuses is refused by Dense too, and one it accepts gives the
// same diagonal by the dense, diagonal and matrix-free routes, or an
// error — never a panic, never NaN with a nil error.
func FuzzLabels(f *testing.F) {
	f.Add(uint8(1), 0.0, 1.0, 0.0, 1.0, 0.5)
	f.Add(uint8(1), 1e300, 1.0, 0.0, 1.0, 0.5)             // a label that wraps to −2⁶³ as an int
	f.Add(uint8(1), math.Ldexp(1, 63), 0.0, 0.0, 0.0, 0.5) // 2⁶³
	f.Add(uint8(1), 0.5, 1.0, 0.0, 1.0, 0.5)               // not a class
	f.Add(uint8(1), -1.0, 1.0, 0.0, 1.0, 0.5)
	f.Add(uint8(1), math.NaN(), 1.0, 0.0, 1.0, 0.5)
	f.Add(uint8(1), 1.0, 0.0, 0.0, 0.0, 1e155) // Inf·0 in the Kronecker assembly
	f.Add(uint8(2), 1.0, 0.0, 2.0, 0.0, 0.5)   // a BCE target outside [0, 1]
	f.Add(uint8(2), 1.0, 0.0, 1.0, 0.0, 0.5)
	f.Add(uint8(0), 1e308, -1e308, 3.0, 0.0, 0.5)
	f.Add(uint8(0), math.Inf(1), 0.0, 0.0, 0.0, 0.5)
	f.Fuzz(func(t *testing.T, which uint8, y0, y1, y2, y3, x0 float64) {
		losses := []nn.Loss{nn.MSE{}, nn.SoftmaxCrossEntropy{}, nn.SigmoidBCE{}}
		loss := losses[int(which)%len(losses)]
		m, theta := tinyModel(t, loss, 1)
		x := mat.NewDense(2, 2, []float64{x0, 1, 0.5, -0.5})
		var y *mat.Dense
		if loss.TargetDim(2) == 1 {
			y = mat.NewDense(2, 1, []float64{y0, y1})
		} else {
			y = mat.NewDense(2, 2, []float64{y0, y1, y2, y3})
		}
		b := Batch{X: x, Y: y}
		if err := m.Validate(theta, b); err != nil {
			if _, err := m.Dense(GGN, theta, b, nil); err == nil {
				t.Fatalf("Validate refused the batch (%v) and Dense took it", err)
			}
			return
		}
		for _, kind := range []Kind{Hessian, GGN, EmpiricalFisher} {
			d, errD := m.Dense(kind, theta, b, nil)
			diag, errDiag := m.Diagonal(kind, theta, b, nil)
			op, errOp := m.Operator(kind, theta, b, nil)
			if errD != nil || errDiag != nil || errOp != nil {
				continue
			}
			n := d.SymmetricDim()
			scale := 0.0
			for i := range n {
				for j := range n {
					v := d.At(i, j)
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%v: entry (%d,%d) = %v with a nil error", kind, i, j, v)
					}
					scale = math.Max(scale, math.Abs(v))
				}
			}
			e := make([]float64, n)
			col := make([]float64, n)
			for i := range n {
				e[i] = 1
				op.MulVecTo(col, e)
				e[i] = 0
				tol := 1e-9*scale + 1e-300
				if math.Abs(diag[i]-d.At(i, i)) > tol || math.Abs(col[i]-d.At(i, i)) > tol {
					t.Fatalf("%v: diagonal %d: dense %v, Diagonal %v, operator %v", kind, i, d.At(i, i), diag[i], col[i])
				}
			}
		}
	})
}
