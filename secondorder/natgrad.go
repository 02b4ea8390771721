package secondorder

import (
	"cmp"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/approx"
	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// CurvatureFunc returns a curvature M̃ at θ on a batch as its damped solve
// (M̃ + λI)⁻¹: any approx.Approximation, or an OperatorSolver. It must not
// keep θ or the batch beyond the call unless it copies them.
type CurvatureFunc func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error)

// DenseCurvature returns the dense matrix kind of m (curvature.Model.Dense)
// as an approx.SymMatrix.
func DenseCurvature(m *curvature.Model, kind curvature.Kind, opt *curvature.Options) CurvatureFunc {
	return func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error) {
		a, err := m.Dense(kind, theta, b, opt)
		if err != nil {
			return nil, err
		}
		return approx.NewSymMatrix(a, curvature.Unlimited)
	}
}

// DiagonalCurvature returns the exact diagonal of the matrix kind of m as
// an approx.Diagonal.
func DiagonalCurvature(m *curvature.Model, kind curvature.Kind, opt *curvature.Options) CurvatureFunc {
	return func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error) {
		d, err := m.Diagonal(kind, theta, b, opt)
		if err != nil {
			return nil, err
		}
		return approx.NewDiagonal(d, curvature.Unlimited)
	}
}

// BlockDiagonalCurvature returns the per-layer diagonal blocks of the
// matrix kind of m (curvature.Model.Block) as an approx.BlockDiagonal.
func BlockDiagonalCurvature(m *curvature.Model, kind curvature.Kind, opt *curvature.Options) CurvatureFunc {
	return func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error) {
		ranges := m.ParamBlocks()
		blocks := make([]approx.Approximation, len(ranges))
		index := make([][]int, len(ranges))
		for k, r := range ranges {
			a, err := m.Block(kind, k, theta, b, opt)
			if err != nil {
				return nil, err
			}
			if blocks[k], err = approx.NewSymMatrix(a, curvature.Unlimited); err != nil {
				return nil, err
			}
			index[k] = make([]int, r[1]-r[0])
			for i := range index[k] {
				index[k][i] = r[0] + i
			}
		}
		return approx.NewBlockDiagonal(blocks, index)
	}
}

// KFACCurvature returns the K-FAC approximation of m's curvature,
// approx.ModelKFAC with settings s.
func KFACCurvature(m *curvature.Model, s *approx.KFACSettings) CurvatureFunc {
	return func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error) {
		return approx.ModelKFAC(m, theta, b, s)
	}
}

// EKFACCurvature returns the eigenvalue-corrected K-FAC approximation
// (George et al. 2018), approx.ModelEKFAC with settings s.
func EKFACCurvature(m *curvature.Model, s *approx.KFACSettings) CurvatureFunc {
	return func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error) {
		return approx.ModelEKFAC(m, theta, b, s)
	}
}

// TONGACurvature returns the low-rank gradient covariance of TONGA (Le Roux
// et al. 2008) on partition p, fed by an approx.TONGAFeed with each batch it
// is called on and kept across calls.
func TONGACurvature(m *curvature.Model, p approx.Partition, s *approx.TONGASettings) (CurvatureFunc, error) {
	feed, err := approx.NewTONGAFeed(m, p, s)
	if err != nil {
		return nil, err
	}
	return func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error) {
		if err := feed.Add(theta, b); err != nil {
			return nil, err
		}
		return feed.TONGA(), nil
	}, nil
}

// OperatorCurvature returns the matrix kind of m as a matrix-free operator
// (curvature.Model.Operator, on a copy of the batch) in an OperatorSolver
// with settings lin (nil: conjugate gradients).
func OperatorCurvature(m *curvature.Model, kind curvature.Kind, opt *curvature.Options, lin *Linear) CurvatureFunc {
	return func(theta []float64, b curvature.Batch) (curvature.DampedSolver, error) {
		if b.X != nil && b.Y != nil {
			b = curvature.Batch{X: mat.DenseCopyOf(b.X), Y: mat.DenseCopyOf(b.Y)}
		}
		op, err := m.Operator(kind, theta, b, opt)
		if err != nil {
			return nil, err
		}
		s := &OperatorSolver{Op: op}
		if lin != nil {
			s.Linear = *lin
		}
		return s, nil
	}
}

// OperatorSolver is the curvature.DampedSolver of an operator M: it solves
// (M + λI)x = v by Cholesky or conjugate gradients, as Linear says.
type OperatorSolver struct {
	Op     curvature.Operator // M
	Linear Linear

	lin linearSolver
}

// errNoOp is the error of an OperatorSolver whose Op was never set.
const errNoOp = "secondorder: OperatorSolver has no operator (its Op field is nil)"

// Dim returns the dimension of Op. It panics when Op is nil.
func (s *OperatorSolver) Dim() int {
	if isNil(s.Op) {
		panic(errNoOp)
	}
	return s.Op.Dim()
}

// SolveDampedTo stores (M + λI)⁻¹v in dst. An M + λI found not positive
// definite is an error wrapping curvature.ErrNotPositiveDefinite.
func (s *OperatorSolver) SolveDampedTo(dst, v []float64, lambda float64) error {
	if isNil(s.Op) {
		return errors.New(errNoOp)
	}
	n := s.Op.Dim()
	if len(dst) != n || len(v) != n {
		panic("secondorder: vector length mismatch")
	}
	if !(lambda >= 0) || math.IsInf(lambda, 1) {
		return fmt.Errorf("secondorder: damping λ = %v must be finite and ≥ 0", lambda)
	}
	if err := s.Linear.validate("OperatorSolver."); err != nil {
		return err
	}
	info, err := s.lin.solve(dst, s.Op, lambda, v, &s.Linear)
	if err != nil {
		return err
	}
	if info.notPD {
		return fmt.Errorf("secondorder: %w: M + %vI", curvature.ErrNotPositiveDefinite, lambda)
	}
	return nonFiniteVec("damped solve", dst)
}

// NaturalGradientSettings configure NaturalGradient. The zero value is
// valid.
type NaturalGradientSettings struct {
	LearningRate   float64       // η > 0; 0: 0.1
	Damping        float64       // λ > 0; 0: 0.1
	Curvature      CurvatureFunc // M̃; nil: KFACCurvature(m, nil)
	UpdateInterval int           // T, steps between recomputations of M̃; 0: 1
	Momentum       float64       // μ in [0, 1), applied as torch.optim.SGD does
}

func (s *NaturalGradientSettings) defaults() error {
	switch {
	case !(s.LearningRate >= 0) || math.IsInf(s.LearningRate, 1):
		return badSetting("NaturalGradientSettings.LearningRate", s.LearningRate, "must be finite and positive")
	case !(s.Damping >= 0) || math.IsInf(s.Damping, 1):
		return badSetting("NaturalGradientSettings.Damping", s.Damping, "must be finite and positive")
	case s.UpdateInterval < 0:
		return badSetting("NaturalGradientSettings.UpdateInterval", float64(s.UpdateInterval), "must be ≥ 0")
	case !(s.Momentum >= 0 && s.Momentum < 1):
		return badSetting("NaturalGradientSettings.Momentum", s.Momentum, "must be in [0, 1)")
	}
	s.LearningRate = cmp.Or(s.LearningRate, 0.1)
	s.Damping = cmp.Or(s.Damping, 0.1)
	s.UpdateInterval = cmp.Or(s.UpdateInterval, 1)
	return nil
}

// NaturalGradient is gradient descent preconditioned by a curvature M̃ —
// the Fisher (Amari 1998), the GGN, the empirical Fisher or an
// approximation of one:
//
//	v ← μv + (M̃ + λI)⁻¹ g,   θ ← θ − η v,
//
// with M̃ recomputed every T steps at the current θ on the current batch.
type NaturalGradient struct {
	model *curvature.Model
	set   NaturalGradientSettings

	step, since int
	cur         curvature.DampedSolver
	resumed     bool // Load dropped a curvature: recompute it, keeping its age
	tape        *nn.Tape
	grad, dir   []float64
	vel         []float64
}

// NewNaturalGradient returns a natural-gradient optimizer for m.
func NewNaturalGradient(m *curvature.Model, s *NaturalGradientSettings) (*NaturalGradient, error) {
	set, err := optimizerSettings("natural gradient", m, s)
	if err != nil {
		return nil, err
	}
	if set.Curvature == nil {
		set.Curvature = KFACCurvature(m, nil)
	}
	P := m.Net.NumParams()
	return &NaturalGradient{
		model: m, set: set, tape: nn.NewTape(m.Net, m.Loss),
		grad: make([]float64, P), dir: make([]float64, P), vel: make([]float64, P),
	}, nil
}

// Curvature returns the curvature the last step used (nil before the
// first step).
func (ng *NaturalGradient) Curvature() curvature.DampedSolver { return ng.cur }

// Step takes one step on the batch, updating θ in place. Bad data, a
// non-finite loss, gradient or step, or a curvature that fails return an
// error with θ unchanged.
func (ng *NaturalGradient) Step(theta []float64, b curvature.Batch) (Record, error) {
	m := ng.model
	rec := newRecord(ng.step + 1)
	if err := m.Validate(theta, b); err != nil {
		return rec, err
	}
	set := &ng.set
	t := ng.tape
	t.SetWeights(b.W)
	t.Forward(theta, b.X)
	rec.Loss = t.LossValue(b.Y)
	t.Backward(ng.grad, nil, b.Y)
	rec.Spent.Func++
	rec.Spent.Grad++
	rec.GradNorm = floats.Norm(ng.grad, 2)
	if err := nonFiniteAt(rec.Loss, ng.grad); err != nil {
		return rec, fmt.Errorf("secondorder: natural gradient step %d: %w", rec.Step, err)
	}
	if ng.cur == nil || ng.since >= set.UpdateInterval {
		cur, err := set.Curvature(theta, b)
		if err != nil {
			ng.cur = nil
			return rec, fmt.Errorf("secondorder: natural gradient step %d: curvature: %w", rec.Step, err)
		}
		if cur == nil {
			return rec, fmt.Errorf("secondorder: natural gradient step %d: curvature is nil", rec.Step)
		}
		if cur.Dim() != len(theta) {
			return rec, fmt.Errorf("secondorder: natural gradient step %d: curvature dimension %d, the network has %d parameters", rec.Step, cur.Dim(), len(theta))
		}
		// The curvature Load dropped is recomputed early; the refreshes
		// after it fall where they would have without the resume.
		if !ng.resumed || ng.since >= set.UpdateInterval {
			ng.since = 0
		}
		ng.cur, ng.resumed = cur, false
		rec.Updated = true
		rec.Spent.Hess++
	}
	if err := ng.cur.SolveDampedTo(ng.dir, ng.grad, set.Damping); err != nil {
		return rec, fmt.Errorf("secondorder: natural gradient step %d: %w", rec.Step, err)
	}
	if err := nonFiniteVec("natural gradient direction", ng.dir); err != nil {
		return rec, err
	}
	// v ← μv + d; θ ← θ − ηv.
	floats.Scale(set.Momentum, ng.vel)
	floats.Add(ng.vel, ng.dir)
	floats.AddScaled(theta, -set.LearningRate, ng.vel)
	ng.step++
	ng.since++
	rec.Accepted = true
	rec.StepNorm = set.LearningRate * floats.Norm(ng.vel, 2)
	rec.Cosine = 0
	if rec.StepNorm > 0 && rec.GradNorm > 0 {
		rec.Cosine = set.LearningRate * floats.Dot(ng.vel, ng.grad) / (rec.StepNorm * rec.GradNorm)
	}
	return rec, nil
}
