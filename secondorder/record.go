package secondorder

// Counts tallies the work of a run or of one step.
type Counts struct {
	Func, Grad     int // objective and gradient evaluations
	Hess           int // points where the curvature was formed (dense, or an operator)
	Products       int // curvature-vector products, n per materialised operator
	Factorizations int // Cholesky and eigen factorisations
}

// Stats is what a run did, under Minimize or optimize.Minimize: every step,
// rejected trials included, and the work of the whole run, the starting
// point's evaluations included.
type Stats struct {
	Iterations, Accepted int // steps, and steps that moved x
	Counts
}

// addStep counts one step that cost spent.
func (s *Stats) addStep(rec StepRecord, spent Counts) {
	s.Iterations++
	if rec.Accepted {
		s.Accepted++
	}
	s.Counts.add(spent)
}

func (c *Counts) add(o Counts) {
	c.Func += o.Func
	c.Grad += o.Grad
	c.Hess += o.Hess
	c.Products += o.Products
	c.Factorizations += o.Factorizations
}

// StepRecord is what one step of a method did: one trust-region trial, or
// one damped Newton direction with its line search or Levenberg–Marquardt
// trial. Rejected trials are steps too.
type StepRecord struct {
	Iteration int  // from 1
	Accepted  bool // the step moved x

	F, GradNorm        float64 // f and ‖∇f‖∞ at the current point after the step
	TrialF             float64 // f at the (last) trial point x + αp
	StepNorm, StepSize float64 // ‖αp‖₂ and α (1 without a line search)
	Radius, NextRadius float64 // the trust radius before and after (0 for damped Newton)
	// Lambda is the damping λ of (M + λI)p = −g (for a trust-region step,
	// its solver's multiplier) and NextLambda the next step's.
	Lambda, NextLambda     float64
	Predicted, Actual, Rho float64 // m(0) − m(αp), f(x) − f(x + αp), their ratio

	Spent Counts   // what the step cost
	Solve StepInfo // what the subproblem or linear solver reported
}
