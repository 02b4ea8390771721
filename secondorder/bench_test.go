package secondorder

import (
	"math/rand/v2"
	"testing"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/internal/randmat"
)

func benchSubproblem(b *testing.B, n int, solver SubproblemSolver, fresh bool) {
	rnd := rand.New(rand.NewPCG(1, 1))
	a := randSym(n, 1, rnd)
	g := randmat.Vec(rnd, n)
	op := curvature.NewDense(a)
	p := make([]float64, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if fresh {
			// A new matrix each time, as in a run: the exact solver
			// copies it and its bounds again.
			a.SetSym(0, 0, float64(i))
		}
		if _, err := solver.Solve(p, op, g, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExact50(b *testing.B)     { benchSubproblem(b, 50, &Exact{}, true) }
func BenchmarkSteihaug50(b *testing.B)  { benchSubproblem(b, 50, &Steihaug{}, false) }
func BenchmarkGLTR50(b *testing.B)      { benchSubproblem(b, 50, &GLTR{}, false) }
func BenchmarkDogleg50(b *testing.B)    { benchSubproblem(b, 50, &Dogleg{}, false) }
func BenchmarkExact200(b *testing.B)    { benchSubproblem(b, 200, &Exact{}, true) }
func BenchmarkSteihaug200(b *testing.B) { benchSubproblem(b, 200, &Steihaug{}, false) }
func BenchmarkGLTR200(b *testing.B)     { benchSubproblem(b, 200, &GLTR{}, false) }

func benchRosenbrock(b *testing.B, mk func() Stepper) {
	obj := rosenObjective(5)
	x := make([]float64, 5)
	for i := 0; i < b.N; i++ {
		copy(x, scipyX0)
		if _, err := Minimize(x, obj, mk(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRosenbrock5Exact(b *testing.B) {
	benchRosenbrock(b, func() Stepper { return &TrustRegion{Solver: &Exact{}} })
}
func BenchmarkRosenbrock5Steihaug(b *testing.B) {
	benchRosenbrock(b, func() Stepper { return &TrustRegion{Solver: &Steihaug{}} })
}
func BenchmarkRosenbrock5GLTR(b *testing.B) {
	benchRosenbrock(b, func() Stepper { return &TrustRegion{Solver: &GLTR{}} })
}
func BenchmarkRosenbrock5Newton(b *testing.B) {
	benchRosenbrock(b, func() Stepper { return &DampedNewton{} })
}
