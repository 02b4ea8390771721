package curvature

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/curvkit/curvkit/internal/vec"
)

// Objective is a smooth function f: Rⁿ → R with its gradient. A network,
// a loss and a batch form one (see Model.Objective); so does any gonum
// optimize.Problem (see FromProblem).
type Objective interface {
	// Dim returns n.
	Dim() int
	// Func returns f(x). It must not modify x.
	Func(x []float64) float64
	// Grad stores ∇f(x) in grad. It must not modify x.
	Grad(grad, x []float64)
}

// Hessianer is an Objective that knows its exact Hessian.
type Hessianer interface {
	Objective
	// Hess stores ∇²f(x) in dst, an n×n matrix.
	Hess(dst *mat.SymDense, x []float64)
}

// HessVecer is an Objective with exact Hessian-vector products.
type HessVecer interface {
	Objective
	// HessVec stores ∇²f(x)·v in dst.
	HessVec(dst, x, v []float64)
}

// Function is an Objective built from plain functions, the shape of gonum's
// optimize.Problem. F and G must be set (FromProblem sets G to central
// differences of F when the Problem has no Grad); H is optional: without
// it the Hessian comes from finite differences of the gradient.
type Function struct {
	N        int
	F        func(x []float64) float64
	G        func(grad, x []float64)
	H        func(dst *mat.SymDense, x []float64) // optional
	HessStep float64                              // finite-difference step when H is nil; 0 means 1e-5·max(1, ‖x‖∞)
}

// FromProblem returns p as an Objective on Rⁿ. p.Func is required; p.Grad
// and p.Hess are optional: without p.Grad the gradient comes from central
// differences of p.Func (gonum diff/fd: 2n evaluations of Func per
// gradient, accurate to about 10⁻⁸ relative, and counted as gradient
// evaluations by the methods), and without p.Hess the Hessian from
// differences of the gradient. The test functions of
// gonum.org/v1/gonum/optimize/functions that have a Hess plug in as
//
//	f := functions.Wood{}
//	obj, err := FromProblem(optimize.Problem{Func: f.Func, Grad: f.Grad, Hess: f.Hess}, 4)
//
// and package curvature/testfunc supplies the Hessians the others lack
// (testfunc.ExtendedRosenbrock{}.Problem()). Check a Hess against
// differences of the gradient before trusting it: gonum v0.17.0's
// Beale.Hess is wrong off the diagonal (testfunc.Beale is right).
func FromProblem(p optimize.Problem, n int) (*Function, error) {
	if p.Func == nil {
		return nil, errors.New("curvature: problem has no Func")
	}
	if n <= 0 {
		return nil, fmt.Errorf("curvature: dimension %d is not positive", n)
	}
	g := p.Grad
	if g == nil {
		f := p.Func
		g = func(grad, x []float64) {
			fd.Gradient(grad, f, x, &fd.Settings{Formula: fd.Central})
		}
	}
	return &Function{N: n, F: p.Func, G: g, H: p.Hess}, nil
}

// Dim returns n.
func (f *Function) Dim() int { return f.N }

// Func returns f(x).
func (f *Function) Func(x []float64) float64 {
	f.check(x)
	return f.F(x)
}

// Grad stores ∇f(x) in grad.
func (f *Function) Grad(grad, x []float64) {
	f.check(x)
	if len(grad) != f.N {
		panic("curvature: gradient length mismatch")
	}
	f.G(grad, x)
}

// Hess stores ∇²f(x) in dst: the exact Hessian when H is set, otherwise the
// symmetrised central-difference Jacobian of the gradient (2n gradient
// evaluations, error O(step²)).
func (f *Function) Hess(dst *mat.SymDense, x []float64) {
	f.check(x)
	if dst.SymmetricDim() != f.N {
		panic("curvature: Hessian dimension mismatch")
	}
	if f.H != nil {
		f.H(dst, x)
		return
	}
	n := f.N
	jac := mat.NewDense(n, n, nil)
	fd.Jacobian(jac, func(y, x []float64) { f.G(y, x) }, x, &fd.JacobianSettings{
		Formula: fd.Central,
		Step:    f.step(x),
	})
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0.5*(jac.At(i, j)+jac.At(j, i)))
		}
	}
}

// HessVec stores ∇²f(x)·v in dst: exact when H is set (through a dense
// Hessian), otherwise a central difference of the gradient along v.
func (f *Function) HessVec(dst, x, v []float64) {
	f.check(x)
	n := f.N
	if len(dst) != n || len(v) != n {
		panic("curvature: vector length mismatch")
	}
	if f.H != nil {
		h := mat.NewSymDense(n, nil)
		f.H(h, x)
		NewDense(h).MulVecTo(dst, v)
		return
	}
	nv := floats.Norm(v, 2)
	if nv == 0 {
		clear(dst)
		return
	}
	h := f.step(x) / nv
	xp := make([]float64, n)
	xm := make([]float64, n)
	gm := make([]float64, n)
	floats.AddScaledTo(xp, x, h, v)
	floats.AddScaledTo(xm, x, -h, v)
	f.G(dst, xp)
	f.G(gm, xm)
	floats.Sub(dst, gm)
	floats.Scale(1/(2*h), dst)
}

func (f *Function) step(x []float64) float64 {
	if f.HessStep > 0 {
		return f.HessStep
	}
	return 1e-5 * math.Max(1, floats.Norm(x, math.Inf(1)))
}

func (f *Function) check(x []float64) {
	if len(x) != f.N {
		panic(fmt.Sprintf("curvature: point has length %d, objective dimension %d", len(x), f.N))
	}
}

// Problem returns obj as a gonum optimize.Problem, so gonum's methods and
// ours run on the same objective. Hess is set when obj has a Hessian.
func Problem(obj Objective) optimize.Problem {
	p := optimize.Problem{Func: obj.Func, Grad: obj.Grad}
	if h, ok := obj.(Hessianer); ok {
		p.Hess = h.Hess
	}
	return p
}

// DenseHessian stores the Hessian of obj at x in dst (resized when empty): exact
// when obj is a Hessianer, from Hessian-vector products when it is a
// HessVecer, and otherwise from finite differences of the gradient. It
// refuses with a *BudgetError when n² exceeds budget floats (0: DefaultBudget; negative: no limit).
func DenseHessian(dst *mat.SymDense, obj Objective, x []float64, budget int) error {
	n := obj.Dim()
	if err := CheckBudget("hessian", n, budget); err != nil {
		return err
	}
	if err := checkFinite("point", x); err != nil {
		return err
	}
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	switch o := obj.(type) {
	case Hessianer:
		o.Hess(dst, x)
	case HessVecer:
		m, err := Materialize(HessianOperator(o, x), Unlimited)
		if err != nil {
			return err
		}
		dst.CopySym(m)
	default:
		fn := &Function{N: n, F: obj.Func, G: obj.Grad}
		fn.Hess(dst, x)
	}
	return nil
}

// HessianOperator returns v ↦ ∇²f(x)·v for obj at x. The products are exact
// for a HessVecer or a Hessianer (the dense Hessian is formed once), and
// central differences of the gradient otherwise. x is copied.
func HessianOperator(obj Objective, x []float64) Operator {
	x = append([]float64(nil), x...)
	switch o := obj.(type) {
	case HessVecer:
		return hessVecOp{o, x}
	case Hessianer:
		h := mat.NewSymDense(o.Dim(), nil)
		o.Hess(h, x)
		return NewDense(h)
	default:
		return hessVecOp{&Function{N: obj.Dim(), F: obj.Func, G: obj.Grad}, x}
	}
}

type hessVecOp struct {
	o HessVecer
	x []float64
}

func (h hessVecOp) Dim() int                  { return h.o.Dim() }
func (h hessVecOp) MulVecTo(dst, v []float64) { h.o.HessVec(dst, h.x, v) }

func checkFinite(what string, x []float64) error {
	i := vec.FirstNonFinite(x)
	if i < 0 {
		return nil
	}
	return fmt.Errorf("curvature: %s has non-finite value %v at index %d", what, x[i], i)
}
