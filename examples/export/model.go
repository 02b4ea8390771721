package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode"

	"github.com/curvkit/curvkit/curvature"
	"github.com/curvkit/curvkit/curvature/nn"
)

// modelFile is the JSON form of a model:
//
//	{"sizes": [4, 6, 3], "activations": ["tanh", "identity"],
//	 "loss": "softmax_ce", "params": [...]}
//
// params holds each layer's row-major [W | b] (out × (in+1)), layers in
// order: PyTorch's torch.cat([W, b[:, None]], 1).flatten() per nn.Linear.
type modelFile struct {
	Sizes       []int      `json:"sizes"`
	Activations []string   `json:"activations"`
	Loss        string     `json:"loss"`
	Params      []*float64 `json:"params"` // pointers, to tell null from 0
}

// maxWidth bounds each layer width, so that parameter counts cannot
// overflow.
const maxWidth = 1 << 20

// loadedModel is a model read from a file, checked.
type loadedModel struct {
	model *curvature.Model
	theta []float64
	sizes []int
}

// loadModel reads and checks the model file at path. Every error names the
// file and says what is wrong.
func loadModel(path string) (*loadedModel, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	lm, err := parseModel(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lm, nil
}

// parseModel decodes and checks a model file's contents. A leading UTF-8
// byte-order mark is skipped, as the data CSV's is.
func parseModel(raw []byte) (*loadedModel, error) {
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	var mf modelFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mf); err != nil {
		return nil, jsonError(raw, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if err := duplicateKey(raw); err != nil {
		return nil, err
	}
	if len(mf.Sizes) < 2 {
		return nil, fmt.Errorf(`"sizes" must list at least 2 layer widths (inputs and outputs), got %v`, mf.Sizes)
	}
	for i, s := range mf.Sizes {
		if s <= 0 {
			return nil, fmt.Errorf(`sizes[%d] is %d; widths must be positive`, i, s)
		}
		if s > maxWidth {
			return nil, fmt.Errorf(`sizes[%d] is %d; widths above %d are not supported`, i, s, maxWidth)
		}
	}
	if len(mf.Activations) != len(mf.Sizes)-1 {
		return nil, fmt.Errorf(`sizes %v describe %d layers, so "activations" needs %d entries, got %d`,
			mf.Sizes, len(mf.Sizes)-1, len(mf.Sizes)-1, len(mf.Activations))
	}
	for i, a := range mf.Activations {
		if strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf(`activations[%d] is empty (use "identity" for none)`, i)
		}
		if _, err := nn.ActivationByName(a); err != nil {
			return nil, fmt.Errorf("activations[%d]: %w", i, err)
		}
	}
	if mf.Loss == "" {
		return nil, errors.New(`"loss" is missing (want mse, softmax_ce or sigmoid_bce)`)
	}
	loss, err := nn.LossByName(mf.Loss)
	if err != nil {
		return nil, fmt.Errorf(`"loss": %w`, err)
	}
	if _, ok := loss.(nn.SoftmaxCrossEntropy); ok && mf.Sizes[len(mf.Sizes)-1] < 2 {
		return nil, fmt.Errorf("softmax_ce needs at least 2 outputs, sizes %v end in %d", mf.Sizes, mf.Sizes[len(mf.Sizes)-1])
	}
	net, err := nn.NewMLP(mf.Sizes, mf.Activations)
	if err != nil {
		return nil, err
	}
	P := net.NumParams()
	if len(mf.Params) != P {
		var parts []string
		for l := 0; l+1 < len(mf.Sizes); l++ {
			in, out := mf.Sizes[l], mf.Sizes[l+1]
			parts = append(parts, fmt.Sprintf("layer %d: %d×(%d+1) = %d", l, out, in, out*(in+1)))
		}
		return nil, fmt.Errorf(`"params" has %d values but sizes %v need %d (%s)`,
			len(mf.Params), mf.Sizes, P, strings.Join(parts, ", "))
	}
	theta := make([]float64, P)
	for i, p := range mf.Params {
		if p == nil {
			return nil, fmt.Errorf("params[%d] is null", i)
		}
		if math.IsNaN(*p) || math.IsInf(*p, 0) {
			return nil, fmt.Errorf("params[%d] = %v is not finite", i, *p)
		}
		theta[i] = *p
	}
	return &loadedModel{
		model: &curvature.Model{Net: net, Loss: loss},
		theta: theta,
		sizes: mf.Sizes,
	}, nil
}

// duplicateKey returns an error naming the first key that appears twice in
// one object of a valid JSON document, and where: encoding/json would keep
// the last value without a word. Keys are compared as encoding/json matches
// them to fields, without regard to case ("Sizes" is "sizes").
func duplicateKey(raw []byte) error {
	type frame struct {
		keys    map[string]string // folded key → the key as written
		object  bool
		wantKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF; the decoder has already accepted the syntax
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top != nil && top.object {
					top.wantKey = true // after this value, a key
				}
				stack = append(stack, &frame{keys: map[string]string{}, object: d == '{', wantKey: d == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top == nil || !top.object {
			continue
		}
		if !top.wantKey {
			top.wantKey = true // a scalar value
			continue
		}
		key := tok.(string)
		folded := foldKey(key)
		if first, dup := top.keys[folded]; dup {
			start := int64(bytes.IndexByte(raw[before:], '"')) + before
			line, col := position(raw, start)
			if first == key {
				return fmt.Errorf("line %d, column %d: duplicate key %q", line, col, key)
			}
			return fmt.Errorf("line %d, column %d: duplicate key %q (the same field as %q)", line, col, key, first)
		}
		top.keys[folded] = key
		top.wantKey = false
	}
}

// foldKey maps every rune of s to the smallest of its case-folding orbit,
// so that two keys have the same image exactly when strings.EqualFold
// holds.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// jsonError turns a decoding error into one with a line and column.
func jsonError(raw []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(raw, syn.Offset)
		return fmt.Errorf("line %d, column %d: invalid JSON: %v", line, col, syn)
	case errors.As(err, &typ):
		line, col := position(raw, typ.Offset)
		return fmt.Errorf("line %d, column %d: %q holds a JSON %s, want %v", line, col, typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return errors.New("empty file, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends too early")
	}
	return fmt.Errorf("invalid model: %w", err)
}

// position returns the 1-based line and column of byte offset off.
func position(raw []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(raw)))
	before := raw[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}
