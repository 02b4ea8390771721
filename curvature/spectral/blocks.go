package spectral

import (
	"errors"
	"fmt"

	"github.com/curvkit/curvkit/curvature"
)

// TraceEstimator estimates the trace of an operator. Hutchinson,
// HutchPlusPlus and XTrace implement it.
type TraceEstimator interface {
	// Floats returns the float64 values the estimator allocates for an
	// operator of dimension n.
	Floats(n int) int
	// Trace returns the estimate.
	Trace(op curvature.Operator) (Estimate, error)
}

var (
	_ TraceEstimator = (*Hutchinson)(nil)
	_ TraceEstimator = (*HutchPlusPlus)(nil)
	_ TraceEstimator = (*XTrace)(nil)
)

// BlockTraces estimates the trace of each diagonal block [lo, hi) of op,
// restricted to the block (curvature.Restrict), so that each product
// costs one product with op. With the ranges of a network's layers,
// curvature.Model.ParamBlocks, they are the per-layer traces PyHessian
// reports, of any curvature matrix or approximation. If est is nil, it is
// &XTrace{} (30 products a block). The estimates sum to an estimate of the
// trace of op when the blocks partition its indices.
func BlockTraces(op curvature.Operator, blocks [][2]int, est TraceEstimator) ([]Estimate, error) {
	if err := checkBlocks(op, blocks); err != nil {
		return nil, err
	}
	if est == nil {
		est = &XTrace{}
	}
	out := make([]Estimate, len(blocks))
	for b, r := range blocks {
		e, err := est.Trace(curvature.Restrict(op, r[0], r[1]))
		if err != nil {
			return nil, fmt.Errorf("spectral: block %d [%d, %d): %w", b, r[0], r[1], err)
		}
		out[b] = e
	}
	return out, nil
}

// BlockEigen computes eigenpairs of each diagonal block [lo, hi) of op,
// restricted to the block (curvature.Restrict): with the ranges of
// curvature.Model.ParamBlocks, the top eigenvalues of each layer's block
// that PyHessian users ask for. If solver is nil, it is &Lanczos{} (the
// largest eigenpair). A block whose pairs do not converge keeps its
// result and the others are still computed; the error then wraps
// ErrNotConverged. Any other error stops the run.
func BlockEigen(op curvature.Operator, blocks [][2]int, solver EigenSolver) ([]*Eigenpairs, error) {
	if err := checkBlocks(op, blocks); err != nil {
		return nil, err
	}
	if solver == nil {
		solver = &Lanczos{}
	}
	out := make([]*Eigenpairs, len(blocks))
	var first error
	for b, r := range blocks {
		res, err := solver.Eigen(curvature.Restrict(op, r[0], r[1]))
		if err != nil {
			err = fmt.Errorf("spectral: block %d [%d, %d): %w", b, r[0], r[1], err)
			if !errors.Is(err, ErrNotConverged) {
				return nil, err
			}
			if first == nil {
				first = err
			}
		}
		out[b] = res
	}
	return out, first
}

// checkBlocks validates the operator and the block ranges.
func checkBlocks(op curvature.Operator, blocks [][2]int) error {
	n, err := dim("blocks", op)
	if err != nil {
		return err
	}
	for b, r := range blocks {
		if r[0] < 0 || r[1] > n || r[0] >= r[1] {
			return fmt.Errorf("spectral: block %d = [%d, %d) is not a non-empty range of [0, %d)", b, r[0], r[1], n)
		}
	}
	return nil
}
