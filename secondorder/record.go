package secondorder

// Counts tallies the work of a run or of one step.
type Counts struct {
	// Func and Grad count objective and gradient evaluations.
	Func, Grad int
	// Hess counts the points at which the curvature was formed: dense
	// Hessians, or matrix-free operators whose cost shows in Products.
	Hess int
	// Products counts curvature-vector products M·v, including the n
	// products of materialising a matrix-free M.
	Products int
	// Factorizations counts Cholesky and eigen factorisations.
	Factorizations int
}

// Stats is what a run did: its steps, rejected trials included, the steps
// that moved x, and the work of the whole run, the evaluations at the
// starting point included (those optimize.Minimize's InitValues supplied
// excepted). A method keeps the Stats of its current or last run under
// either entry point (TrustRegion.Stats, DampedNewton.Stats); Minimize's
// Result holds them too.
type Stats struct {
	// Iterations counts steps and Accepted the steps that moved x.
	Iterations, Accepted int
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
// one damped Newton direction with its line search or its
// Levenberg–Marquardt trial. Rejected trials are steps too.
type StepRecord struct {
	// Iteration numbers the steps of a run from 1.
	Iteration int
	// Accepted is set when the step moved x.
	Accepted bool
	// F and GradNorm are f and ‖∇f‖∞ at the current point after the step
	// (the new point when accepted, the old one when rejected).
	F, GradNorm float64
	// TrialF is f at the (last) trial point x + αp.
	TrialF float64
	// StepNorm is ‖αp‖₂ of the trial step; StepSize is α, the line-search
	// step length (1 without a line search).
	StepNorm, StepSize float64
	// Radius is the trust radius the step was solved in and NextRadius
	// the radius after the update (both 0 for damped Newton).
	Radius, NextRadius float64
	// Lambda is the damping of (M + λI)p = −g the step was solved with
	// (for the trust region, the multiplier σ of the exact solver), and
	// NextLambda the damping for the next step.
	Lambda, NextLambda float64
	// Predicted is the model decrease m(0) − m(αp), Actual the objective
	// decrease f(x) − f(x + αp) and Rho = Actual/Predicted.
	Predicted, Actual, Rho float64
	// Spent is what the step cost.
	Spent Counts
	// Solve is what the subproblem or linear solver reported.
	Solve StepInfo
}
