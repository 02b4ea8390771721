package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// problem is the data, the network and the loss every optimizer trains,
// from the same initial parameters.
type problem struct {
	name        string
	classify    bool
	model       *curvature.Model
	sizes       []int
	activations []string
	train, test *data.Set // targets are the inputs when autoencoding
	theta0      []float64
}

func (p *problem) describe() string {
	s := make([]string, len(p.sizes))
	for i, v := range p.sizes {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "-") + " " + strings.Join(p.activations, ",")
}

func loadProblem(c *config) (*problem, error) {
	var set *data.Set
	var err error
	name := "digits"
	if c.dataPath == "" {
		set, err = data.Digits()
	} else {
		name = c.dataPath
		set, err = loadLabelled(c.dataPath)
	}
	if err != nil {
		return nil, err
	}
	if c.trainRows >= set.Len() {
		return nil, fmt.Errorf("-train %d leaves no held-out rows of %d", c.trainRows, set.Len())
	}
	rng := rand.New(rand.NewPCG(c.seed, 1))
	train, test, err := set.Split(float64(c.trainRows)/float64(set.Len()), rng)
	if err != nil {
		return nil, err
	}
	p := &problem{name: name, classify: c.task == "classify"}
	d := set.InputDim()
	if p.classify {
		var st data.Standardizer
		if c.dataPath != "" { // the digits are already in [0, 1]
			st.Fit(train.X)
			st.Transform(train.X)
			st.Transform(test.X)
		}
		p.train, p.test = train, test
		p.model = &curvature.Model{Loss: nn.SoftmaxCrossEntropy{}}
		p.sizes = c.sizes
		if p.sizes == nil {
			p.sizes = []int{d, 32, set.Classes}
		}
		if last := p.sizes[len(p.sizes)-1]; last != set.Classes {
			return nil, fmt.Errorf("-sizes ends in %d outputs but the data has %d classes", last, set.Classes)
		}
	} else {
		if c.dataPath != "" {
			minMaxScale(train.X, test.X)
		}
		p.train = &data.Set{X: train.X, Y: train.X}
		p.test = &data.Set{X: test.X, Y: test.X}
		p.model = &curvature.Model{Loss: nn.SigmoidBCE{}}
		p.sizes = c.sizes
		if p.sizes == nil {
			p.sizes = []int{d, 48, 32, 16, 32, 48, d}
		}
		if last := p.sizes[len(p.sizes)-1]; last != d {
			return nil, fmt.Errorf("-sizes ends in %d outputs but an autoencoder of %d inputs needs %d", last, d, d)
		}
	}
	if p.sizes[0] != d {
		return nil, fmt.Errorf("-sizes starts at %d inputs but the data has %d", p.sizes[0], d)
	}
	L := len(p.sizes) - 1
	switch len(c.activations) {
	case 1:
		p.activations = make([]string, L)
		for l := range p.activations {
			p.activations[l] = c.activations[0]
		}
		p.activations[L-1] = "identity"
	case L:
		p.activations = c.activations
	default:
		return nil, fmt.Errorf("-activations: %d names for %d layers; give one, or one per layer", len(c.activations), L)
	}
	net, err := nn.NewMLP(p.sizes, p.activations)
	if err != nil {
		return nil, err
	}
	p.model.Net = net
	p.theta0 = make([]float64, net.NumParams())
	net.Init(p.theta0, rand.New(rand.NewPCG(c.seed, 2)))
	return p, nil
}

// loadLabelled reads a CSV whose last column is a class index, inferring
// the number of classes from the largest label.
func loadLabelled(path string) (*data.Set, error) {
	set, err := data.LoadCSV(path, data.CSVOptions{Targets: 1})
	if err != nil {
		return nil, err
	}
	top := 0.0
	for i := 0; i < set.Len(); i++ {
		top = max(top, set.Y.At(i, 0))
	}
	set.Classes = int(top) + 1
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("%s: the last column must be a class index 0, 1, …: %w", path, err)
	}
	if set.Classes < 2 {
		return nil, fmt.Errorf("%s: labels hold one class; need at least 2", path)
	}
	return set, nil
}

// minMaxScale maps every column of train to [0, 1] and applies the same map
// to test (clamped), so the sigmoid cross-entropy has valid targets.
func minMaxScale(train, test *mat.Dense) {
	_, c := train.Dims()
	for j := 0; j < c; j++ {
		col := mat.Col(nil, j, train)
		lo, hi := col[0], col[0]
		for _, v := range col {
			lo, hi = min(lo, v), max(hi, v)
		}
		scale := 0.0
		if hi > lo {
			scale = 1 / (hi - lo)
		}
		for _, m := range []*mat.Dense{train, test} {
			r, _ := m.Dims()
			for i := 0; i < r; i++ {
				m.Set(i, j, min(1, max(0, (m.At(i, j)-lo)*scale)))
			}
		}
	}
}

// loss returns the mean loss of θ on a set, and the accuracy when
// classifying.
func (p *problem) loss(t *nn.Tape, theta []float64, s *data.Set) (loss, acc float64) {
	z := t.Forward(theta, s.X)
	loss = t.LossValue(s.Y)
	if !p.classify {
		return loss, 0
	}
	n, _ := z.Dims()
	right := 0
	for i := 0; i < n; i++ {
		row := z.RawRowView(i)
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if best == int(s.Y.At(i, 0)) {
			right++
		}
	}
	return loss, float64(right) / float64(n)
}

// memoryNote tells what K-FAC's factors hold against one dense P×P
// curvature matrix, before anything is built.
func memoryNote(p *problem) string {
	kron := 0
	for l := 1; l < len(p.sizes); l++ {
		kron += p.sizes[l]*p.sizes[l] + (p.sizes[l-1]+1)*(p.sizes[l-1]+1)
	}
	P := p.model.Net.NumParams()
	dense := curvature.DenseFloats(P)
	return fmt.Sprintf("memory: K-FAC factors %d floats (%.1f MiB); a dense curvature matrix would take %d floats (%.1f MiB), %.0f× more",
		kron, 8*float64(kron)/(1<<20), dense, 8*float64(dense)/(1<<20), float64(dense)/float64(kron))
}
