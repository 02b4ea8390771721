package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Predictor is implemented by losses that say what a network predicts: the
// most probable target given an output, the mode of p(y|z). The losses here
// are Predictors; package curvature's Model.Predict and Model.Accuracy use
// the interface, so that a loss of one's own predicts by implementing it.
type Predictor interface {
	// Predict stores in row i of dst (N×TargetDim) the most probable target
	// given the output row z_i: the class index argmax z_i for softmax
	// cross-entropy, weighted or not (the first on ties, a NaN counting as
	// the largest, as torch.argmax), 1 where z_ik > 0 and 0 elsewhere for
	// sigmoid binary cross-entropy, z_i itself for MSE, the means μ_i for
	// the Gaussian negative log-likelihood.
	Predict(dst, z *mat.Dense)
}

// Classifier is implemented by the losses of classification, whose targets
// are labels: the class index of softmax cross-entropy (weighted or not),
// a 0/1 label per output of sigmoid binary cross-entropy. p(y|z) is
// categorical over the C classes when TargetDim is 1, and independent
// Bernoulli labels, one per output, when TargetDim is C.
type Classifier interface {
	Predictor
	// Probabilities stores in row i of dst (N×C) the probabilities p(y|z_i)
	// gives the labels: softmax(z_i) over the C classes, or σ(z_ik), the
	// probability of label 1, for each output k.
	Probabilities(dst, z *mat.Dense)
}

// Regressor is implemented by the losses of regression whose p(y|z) is a
// Gaussian with independent components: Predict gives its means, Variance
// its variances.
type Regressor interface {
	Predictor
	// Variance stores in row i of dst (N×TargetDim) the variances of
	// p(y|z_i): 1 for MSE, e^{s_i} for the Gaussian negative
	// log-likelihood.
	Variance(dst, z *mat.Dense)
}

var (
	_ Regressor  = MSE{}
	_ Classifier = SoftmaxCrossEntropy{}
	_ Classifier = SigmoidBCE{}
)

// checkPredict panics unless dst is N×cols for the N rows of z.
func checkPredict(what string, dst, z *mat.Dense, cols int) {
	n, _ := z.Dims()
	if r, c := dst.Dims(); r != n || c != cols {
		panic(fmt.Sprintf("nn: %s of %d outputs in a %d×%d matrix, want %d×%d", what, n, r, c, n, cols))
	}
}

// Predict copies z to dst: the mean, and mode, of the unit Gaussian.
func (MSE) Predict(dst, z *mat.Dense) {
	_, c := z.Dims()
	checkPredict("mse predictions", dst, z, c)
	dst.Copy(z)
}

// Variance stores 1, the variance of the unit Gaussian, in dst.
func (MSE) Variance(dst, z *mat.Dense) {
	perEntry("mse variances", dst, z, func(float64) float64 { return 1 })
}

// Predict stores argmax z_i in dst[i, 0].
func (SoftmaxCrossEntropy) Predict(dst, z *mat.Dense) {
	checkPredict("softmax_ce predictions", dst, z, 1)
	n, _ := z.Dims()
	for i := 0; i < n; i++ {
		row, best := z.RawRowView(i), 0
		for k, v := range row {
			if v > row[best] || (math.IsNaN(v) && !math.IsNaN(row[best])) {
				best = k
			}
		}
		dst.Set(i, 0, float64(best))
	}
}

// Probabilities stores softmax(z_i) in row i of dst.
func (SoftmaxCrossEntropy) Probabilities(dst, z *mat.Dense) {
	n, c := z.Dims()
	checkPredict("softmax_ce probabilities", dst, z, c)
	for i := 0; i < n; i++ {
		softmaxTo(dst.RawRowView(i), z.RawRowView(i))
	}
}

// Predict stores 1 where z_ik > 0 (σ(z_ik) > ½) and 0 elsewhere in dst.
func (SigmoidBCE) Predict(dst, z *mat.Dense) {
	perEntry("sigmoid_bce predictions", dst, z, func(v float64) float64 {
		if v > 0 {
			return 1
		}
		return 0
	})
}

// Probabilities stores σ(z_ik) in dst.
func (SigmoidBCE) Probabilities(dst, z *mat.Dense) {
	perEntry("sigmoid_bce probabilities", dst, z, sigmoid)
}

// perEntry stores f(z_ik) in dst, z's size.
func perEntry(what string, dst, z *mat.Dense, f func(float64) float64) {
	n, c := z.Dims()
	checkPredict(what, dst, z, c)
	for i := 0; i < n; i++ {
		d := dst.RawRowView(i)
		for k, v := range z.RawRowView(i) {
			d[k] = f(v)
		}
	}
}
