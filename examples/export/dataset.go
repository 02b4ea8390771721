package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/data"
	"github.com/curvkit/curvkit/curvature/nn"
)

// loadBatch reads the data file at path for model lm: no header, each row
// the inputs then the target (one class index for softmax_ce and
// weighted_softmax_ce, the D target values of gaussian_nll's 2D outputs,
// the output values otherwise, in [0, 1] for sigmoid_bce). Errors name the
// file, and the line and column at fault.
func loadBatch(path string, lm *loadedModel) (curvature.Batch, error) {
	in, out := lm.model.Net.InSize(), lm.model.Net.OutSize()
	opt := data.CSVOptions{Inputs: in, Targets: lm.model.Loss.TargetDim(out)}
	if _, ok := lm.model.Loss.(nn.Classifier); ok && opt.Targets == 1 && out > 1 {
		opt = data.CSVOptions{Inputs: in, Classes: out}
	}
	set, err := data.LoadCSV(path, opt)
	if err != nil {
		return curvature.Batch{}, err // a *data.ParseError names the file and line
	}
	b := curvature.Batch{X: set.X, Y: set.Y}
	if _, ok := lm.model.Loss.(nn.SigmoidBCE); ok {
		n, c := b.Y.Dims()
		for i := 0; i < n; i++ {
			for k := 0; k < c; k++ {
				if v := b.Y.At(i, k); v < 0 || v > 1 {
					return curvature.Batch{}, fmt.Errorf("%s:%d: column %d: target %v is outside [0, 1], which sigmoid_bce needs",
						path, lineOfRow(path, i), in+k+1, v)
				}
			}
		}
	}
	if err := lm.model.Validate(lm.theta, b); err != nil {
		return curvature.Batch{}, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// lineOfRow returns the 1-based line of data row i (0-based) of a file
// whose blank lines hold no row, or 0 if the file cannot be read again.
func lineOfRow(path string, i int) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	line, row := 0, -1
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) != "" {
			row++
			if row == i {
				return line
			}
		}
	}
	return 0
}
