package curvature

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
)

// predictRows is how many samples Outputs and the predictions run through
// the network at a time, so that a pass over a large set holds the
// activations of that many samples only.
const predictRows = 256

// Outputs returns the network's outputs z (N×OutSize, the logits) on the
// inputs x (N×InSize, one sample a row) at θ, or an error for θ or x that
// Validate would refuse. The samples go through the network a few hundred
// at a time, so the memory is that of the outputs and of one such group.
func (m *Model) Outputs(theta []float64, x *mat.Dense) (*mat.Dense, error) {
	if err := m.checkPredict(theta, x); err != nil {
		return nil, err
	}
	n, _ := x.Dims()
	z := mat.NewDense(n, m.Net.OutSize(), nil)
	m.forward(theta, x, func(lo, hi int, zs *mat.Dense) {
		z.Slice(lo, hi, 0, m.Net.OutSize()).(*mat.Dense).Copy(zs)
	})
	return z, nil
}

// Predict returns the most probable target of each sample of x given the
// network's output, the mode of the loss's p(y|z) (nn.Predictor): N×1
// class indices for softmax cross-entropy, N×C 0/1 labels for sigmoid
// binary cross-entropy, the outputs themselves for MSE. It returns an
// error for a loss that is not an nn.Predictor, or θ or x that Validate
// would refuse.
func (m *Model) Predict(theta []float64, x *mat.Dense) (*mat.Dense, error) {
	if err := m.checkPredict(theta, x); err != nil {
		return nil, err
	}
	p, ok := m.Loss.(nn.Predictor)
	if !ok {
		return nil, fmt.Errorf("curvature: the loss %s makes no predictions (it is not an nn.Predictor)", m.Loss.Name())
	}
	n, _ := x.Dims()
	cols := m.Loss.TargetDim(m.Net.OutSize())
	pred := mat.NewDense(n, cols, nil)
	m.forward(theta, x, func(lo, hi int, z *mat.Dense) {
		p.Predict(pred.Slice(lo, hi, 0, cols).(*mat.Dense), z)
	})
	return pred, nil
}

// Probabilities returns, for each sample of x, the probabilities the
// loss's p(y|z) gives the labels (nn.Classifier): N×C class probabilities
// softmax(z) for softmax cross-entropy, N×C probabilities σ(z) of label 1
// for sigmoid binary cross-entropy. It returns an error for a loss that is
// not an nn.Classifier (MSE has no labels), or θ or x that Validate would
// refuse.
func (m *Model) Probabilities(theta []float64, x *mat.Dense) (*mat.Dense, error) {
	if err := m.checkPredict(theta, x); err != nil {
		return nil, err
	}
	c, err := m.classifier()
	if err != nil {
		return nil, err
	}
	n, _ := x.Dims()
	C := m.Net.OutSize()
	prob := mat.NewDense(n, C, nil)
	m.forward(theta, x, func(lo, hi int, z *mat.Dense) {
		c.Probabilities(prob.Slice(lo, hi, 0, C).(*mat.Dense), z)
	})
	return prob, nil
}

// Accuracy returns the fraction of the batch's samples whose target the
// model predicts (Predict): the class index for softmax cross-entropy, every
// output's label for sigmoid binary cross-entropy (a soft target counts as
// its nearest label, ½ as 1). With sample weights the fraction is
// weighted, Σ_i w_i hit_i / Σ_i w_i. It returns an error for a loss that is
// not an nn.Classifier, or a batch that Validate refuses.
func (m *Model) Accuracy(theta []float64, b Batch) (float64, error) {
	if err := m.Validate(theta, b); err != nil {
		return 0, err
	}
	c, err := m.classifier()
	if err != nil {
		return 0, err
	}
	cols := m.Loss.TargetDim(m.Net.OutSize())
	pred := mat.NewDense(min(b.Len(), predictRows), cols, nil)
	hits := 0.0
	m.forward(theta, b.X, func(lo, hi int, z *mat.Dense) {
		p := pred.Slice(0, hi-lo, 0, cols).(*mat.Dense)
		c.Predict(p, z)
		for i := lo; i < hi; i++ {
			hit := true
			for j, v := range p.RawRowView(i - lo) {
				hit = hit && v == math.Round(b.Y.At(i, j))
			}
			if hit {
				hits += b.weight(i)
			}
		}
	})
	return hits / b.weightSum(), nil
}

// checkPredict reports what is wrong with θ and the inputs x.
func (m *Model) checkPredict(theta []float64, x *mat.Dense) error {
	if err := m.checkParams(theta); err != nil {
		return err
	}
	if x == nil {
		return errors.New("curvature: no inputs")
	}
	return m.checkInputs(x)
}

// classifier returns the loss as an nn.Classifier.
func (m *Model) classifier() (nn.Classifier, error) {
	c, ok := m.Loss.(nn.Classifier)
	if !ok {
		return nil, fmt.Errorf("curvature: the loss %s has no labels to give probabilities or an accuracy for (it is not an nn.Classifier)", m.Loss.Name())
	}
	return c, nil
}

// forward runs the samples of x through the network predictRows at a
// time, calling visit with each group's rows [lo, hi) and outputs.
func (m *Model) forward(theta []float64, x *mat.Dense, visit func(lo, hi int, z *mat.Dense)) {
	n, c := x.Dims()
	t := nn.NewTape(m.Net, m.Loss)
	for lo := 0; lo < n; lo += predictRows {
		hi := min(n, lo+predictRows)
		visit(lo, hi, t.Forward(theta, x.Slice(lo, hi, 0, c).(*mat.Dense)))
	}
}
