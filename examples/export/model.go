package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/curvkit/curvkit/curvature"
)

// loadedModel is a model read from a file, checked.
type loadedModel struct {
	model *curvature.Model
	theta []float64
}

// loadModel reads the model file at path with curvature.ReadModel, which
// takes both forms of model.json (the general form of any network and the
// MLP form) and checks everything. Every error names the file and says
// what is wrong.
func loadModel(path string) (*loadedModel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	defer f.Close()
	m, theta, err := curvature.ReadModel(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "curvature: "))
	}
	return &loadedModel{model: m, theta: theta}, nil
}
