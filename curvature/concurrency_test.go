package curvature

import (
	"math"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// One operator of every kind, shared by several goroutines that multiply
// by different vectors and matrices at once (run with -race): every
// result equals, bit for bit, the one the operator gives alone. A shared
// Model builds operators concurrently too.
func TestOperatorConcurrentProducts(t *testing.T) {
	f := newFixture(t, []int{4, 6, 3}, []string{"tanh", "identity"}, nn.SoftmaxCrossEntropy{}, 40, 31)
	P := len(f.theta)
	const workers, rounds = 4, 6
	vecs := make([][]float64, workers)
	for w := range vecs {
		vecs[w] = make([]float64, P)
		for i := range vecs[w] {
			vecs[w][i] = math.Sin(float64(w*P+i) + 0.3)
		}
	}
	block := mat.NewDense(P, 2, nil)
	for i := 0; i < P; i++ {
		block.Set(i, 0, math.Cos(float64(i)))
		block.Set(i, 1, float64(i%3)-1)
	}
	ops := make([]MatMuler, len(Kinds))
	var wg sync.WaitGroup
	for k, kind := range Kinds {
		wg.Go(func() {
			op, err := f.m.Operator(kind, f.theta, f.b, &Options{Seed: 5})
			if err != nil {
				t.Error(err)
			}
			ops[k] = op
		})
	}
	wg.Wait()
	for k, op := range ops {
		want := make([][]float64, workers)
		for w := range want {
			want[w] = make([]float64, P)
			op.MulVecTo(want[w], vecs[w])
		}
		var wantMat mat.Dense
		op.MulMatTo(&wantMat, block)
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				got := make([]float64, P)
				for r := 0; r < rounds; r++ {
					op.MulVecTo(got, vecs[w])
					for i := range got {
						if math.Float64bits(got[i]) != math.Float64bits(want[w][i]) {
							t.Errorf("%v: goroutine %d round %d: entry %d is %v, alone %v", Kinds[k], w, r, i, got[i], want[w][i])
							return
						}
					}
					if w == 0 {
						var m mat.Dense
						op.MulMatTo(&m, block)
						if !mat.Equal(&m, &wantMat) {
							t.Errorf("%v: MulMatTo differs under contention", Kinds[k])
							return
						}
					}
				}
			})
		}
		wg.Wait()
	}
}
