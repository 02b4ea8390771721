package approx

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// TONGAFeed feeds the per-sample gradients of a model's batches, in sample
// order, into a TONGA, from one forward and one backward pass per batch,
// reusing its tape and gradient matrix. Not safe for concurrent use.
type TONGAFeed struct {
	model *curvature.Model
	tonga *TONGA
	tape  *nn.Tape
	per   *mat.Dense
}

// NewTONGAFeed returns a feed into a new, empty TONGA on partition p of
// m's parameters (per neuron, as Le Roux et al., or per layer). Errors are
// those of Partition.Index and NewTONGA.
func NewTONGAFeed(m *curvature.Model, p Partition, s *TONGASettings) (*TONGAFeed, error) {
	if m == nil || m.Net == nil || m.Loss == nil {
		return nil, fmt.Errorf("approx: model needs a network and a loss")
	}
	index, err := p.Index(m.Net)
	if err != nil {
		return nil, err
	}
	t, err := NewTONGA(index, s)
	if err != nil {
		return nil, err
	}
	return &TONGAFeed{model: m, tonga: t, tape: nn.NewTape(m.Net, m.Loss)}, nil
}

// TONGA returns the estimator the feed adds to.
func (f *TONGAFeed) TONGA() *TONGA { return f.tonga }

// Add computes the per-sample gradients of the batch at θ and adds them to
// the estimator in sample order. It returns an error, adding nothing, for
// an invalid θ or batch or one with sample weights (TONGA weighs each
// gradient 1), and when a gradient is not finite (those before it stay).
func (f *TONGAFeed) Add(theta []float64, b curvature.Batch) error {
	if err := f.model.Validate(theta, b); err != nil {
		return err
	}
	if b.W != nil {
		return fmt.Errorf("approx: TONGA takes every gradient with weight 1; the batch has sample weights")
	}
	n, P := b.Len(), f.model.Net.NumParams()
	if f.per == nil || cap(f.per.RawMatrix().Data) < n*P {
		f.per = mat.NewDense(n, P, nil)
	} else {
		f.per = mat.NewDense(n, P, f.per.RawMatrix().Data[:n*P])
	}
	f.tape.Forward(theta, b.X)
	f.tape.Backward(nil, f.per, b.Y)
	for i := 0; i < n; i++ {
		if err := f.tonga.Add(f.per.RawRowView(i)); err != nil {
			return fmt.Errorf("approx: sample %d: %w", i, err)
		}
	}
	return nil
}

// ModelTONGA returns a TONGA on partition p of m's parameters that has seen
// the per-sample gradients of one batch at θ, in sample order. With
// discount 1 and Rank at least the batch size nothing is truncated and
// the estimate is the block-diagonal part of the gradient covariance (the
// empirical Fisher when Uncentered).
func ModelTONGA(m *curvature.Model, theta []float64, b curvature.Batch, p Partition, s *TONGASettings) (*TONGA, error) {
	f, err := NewTONGAFeed(m, p, s)
	if err != nil {
		return nil, err
	}
	if err := f.Add(theta, b); err != nil {
		return nil, err
	}
	return f.tonga, nil
}
