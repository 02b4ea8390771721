package curvature

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/curvkit/curvkit/curvature/nn"
)

// modelFile is model.json in either form: the MLP form (Sizes and
// Activations) or the general form (InputShape and Layers, nn.Description).
type modelFile struct {
	Sizes       []int                 `json:"sizes"`
	Activations []string              `json:"activations"`
	InputShape  nn.Dims               `json:"input_shape"`
	Layers      []nn.LayerDescription `json:"layers"`
	Loss        string                `json:"loss"`
	Weights     []*float64            `json:"class_weights"` // weighted_softmax_ce's
	Params      []*float64            `json:"params"`        // pointers, to tell null from 0
}

// ReadModel reads a model and its parameters θ from model.json, in either
// of its forms. The general form is an nn.Description (the input's shape
// and the layers, in PyTorch's terms) with the loss and the parameters:
//
//	{"input_shape": [1, 8, 8],
//	 "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": [3, 3], "padding": [1, 1]},
//	            {"type": "tanh"}, {"type": "avgpool2d", "kernel_size": [2, 2]}, {"type": "flatten"},
//	            {"type": "linear", "in_features": 64, "out_features": 10}],
//	 "loss": "softmax_ce", "params": [...]}
//
// The MLP form lists the widths and the activation after each affine
// layer, as nn.NewMLP takes them:
//
//	{"sizes": [4, 6, 3], "activations": ["tanh", "identity"], "loss": "softmax_ce", "params": [...]}
//
// "loss" is a name nn.LossByName accepts; "class_weights", one per output,
// are the class weights of "weighted_softmax_ce" (every weight 1 without
// them), and no other loss takes them; "params" is θ in the project's
// layout (each layer's parameters in order: a linear layer's row-major
// [W | b], a convolution's kernel (C, kh, kw) then bias per output channel,
// a layer norm's [γ; β]).
//
// The file is checked as a whole, and every error says what is wrong and
// where: a line and column for JSON that does not parse, a key given twice
// in one object (encoding/json would keep the last without a word; keys
// match without regard to case, as encoding/json matches fields), an
// unknown key; the layer (layers[2], or layers[2].layers[0] inside a
// residual body) and field for a layer that is not right (see
// nn.Description.Network); the index of a null parameter; the count each
// layer needs when "params" has the wrong length. A leading UTF-8 byte-order
// mark is skipped, as spreadsheet tools write one.
func ReadModel(r io.Reader) (*Model, []float64, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("curvature: reading the model: %w", err)
	}
	m, theta, err := parseModel(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("curvature: %w", err)
	}
	return m, theta, nil
}

// parseModel decodes and checks a model file's contents; its errors have no
// package prefix.
func parseModel(raw []byte) (*Model, []float64, error) {
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	var mf modelFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mf); err != nil {
		return nil, nil, jsonError(raw, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("unexpected data after the JSON object")
	}
	if err := duplicateKey(raw); err != nil {
		return nil, nil, err
	}
	mlp := mf.Sizes != nil || mf.Activations != nil
	general := mf.InputShape != nil || mf.Layers != nil
	var (
		net *nn.Network
		err error
	)
	switch {
	case mlp && general:
		return nil, nil, errors.New(`the model has both "sizes"/"activations" (the MLP form) and "input_shape"/"layers" (the general form); give one`)
	case mlp:
		net, err = mf.mlp()
	case general:
		net, err = nn.Description{InputShape: mf.InputShape, Layers: mf.Layers}.Network()
	default:
		return nil, nil, errors.New(`the model has neither "input_shape" and "layers" (the general form) nor "sizes" and "activations" (the MLP form)`)
	}
	if err != nil {
		return nil, nil, errors.New(strings.TrimPrefix(err.Error(), "nn: "))
	}
	if mf.Loss == "" {
		return nil, nil, errors.New(`"loss" is missing (want mse, softmax_ce or sigmoid_bce)`)
	}
	loss, err := nn.LossByName(mf.Loss)
	if err != nil {
		return nil, nil, fmt.Errorf(`"loss": %s`, strings.TrimPrefix(err.Error(), "nn: "))
	}
	if loss, err = mf.lossFor(loss, net.OutSize()); err != nil {
		return nil, nil, err
	}
	P := net.NumParams()
	if len(mf.Params) != P {
		if mlp {
			return nil, nil, mf.mlpParamsError(P)
		}
		return nil, nil, fmt.Errorf(`"params" has %d values but the layers need %d (%s)`,
			len(mf.Params), P, strings.Join(paramCounts(net, mf.Layers), ", "))
	}
	theta := make([]float64, P)
	for i, p := range mf.Params {
		if p == nil {
			return nil, nil, fmt.Errorf("params[%d] is null", i)
		}
		theta[i] = *p // encoding/json refuses numbers out of float64's range
	}
	return &Model{Net: net, Loss: loss}, theta, nil
}

// lossFor checks that loss takes C outputs and gives it the file's class
// weights.
func (mf *modelFile) lossFor(loss nn.Loss, C int) (nn.Loss, error) {
	if w, ok := loss.(nn.WeightedSoftmaxCrossEntropy); ok && mf.Weights != nil {
		w.Weights = make([]float64, len(mf.Weights))
		for i, p := range mf.Weights {
			if p == nil {
				return nil, fmt.Errorf("class_weights[%d] is null", i)
			}
			w.Weights[i] = *p
		}
		if err := w.CheckWeights(C); err != nil {
			return nil, fmt.Errorf(`"class_weights": %s`, strings.TrimPrefix(err.Error(), "nn: "))
		}
		loss = w
	} else if mf.Weights != nil {
		return nil, fmt.Errorf(`"class_weights" are weighted_softmax_ce's; the loss is %s`, loss.Name())
	}
	switch loss.(type) {
	case nn.SoftmaxCrossEntropy, nn.WeightedSoftmaxCrossEntropy:
		if C < 2 {
			return nil, fmt.Errorf("%s needs at least 2 outputs, the network has %d", loss.Name(), C)
		}
	case nn.GaussianNLL:
		if C%2 != 0 {
			return nil, fmt.Errorf("gaussian_nll needs an even number of outputs (means then log-variances), the network has %d", C)
		}
	}
	return loss, nil
}

// mlp returns the network of the MLP form, with errors that name the entry
// at fault.
func (mf *modelFile) mlp() (*nn.Network, error) {
	if len(mf.Sizes) < 2 {
		return nil, fmt.Errorf(`"sizes" must list at least 2 layer widths (inputs and outputs), got %v`, mf.Sizes)
	}
	for i, s := range mf.Sizes {
		if s <= 0 {
			return nil, fmt.Errorf(`sizes[%d] is %d; widths must be positive`, i, s)
		}
		if s > nn.MaxSize {
			return nil, fmt.Errorf(`sizes[%d] is %d; widths above %d are not supported`, i, s, nn.MaxSize)
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
			return nil, fmt.Errorf("activations[%d]: %s", i, strings.TrimPrefix(err.Error(), "nn: "))
		}
	}
	return nn.NewMLP(mf.Sizes, mf.Activations)
}

// mlpParamsError says how many parameters each layer of the MLP form needs.
func (mf *modelFile) mlpParamsError(P int) error {
	var parts []string
	for l := 0; l+1 < len(mf.Sizes); l++ {
		in, out := mf.Sizes[l], mf.Sizes[l+1]
		parts = append(parts, fmt.Sprintf("layer %d: %d×(%d+1) = %d", l, out, in, out*(in+1)))
	}
	return fmt.Errorf(`"params" has %d values but sizes %v need %d (%s)`,
		len(mf.Params), mf.Sizes, P, strings.Join(parts, ", "))
}

// paramCounts lists the parameter count of each layer of the general form
// that has parameters, by its place in the file: the descriptions, depth
// first, are net's layers in order (a residual block is its body).
func paramCounts(net *nn.Network, ds []nn.LayerDescription) []string {
	var parts []string
	k := 0
	var walk func(ds []nn.LayerDescription, path string)
	walk = func(ds []nn.LayerDescription, path string) {
		for i, d := range ds {
			p := fmt.Sprintf("%s[%d]", path, i)
			if strings.EqualFold(d.Type, "residual") {
				walk(d.Layers, p+".layers")
				continue
			}
			if lo, hi := net.ParamRange(k); hi > lo {
				parts = append(parts, fmt.Sprintf("%s %s: %d", p, d.Type, hi-lo))
			}
			k++
		}
	}
	walk(ds, "layers")
	return parts
}

// WriteModel writes m and θ as model.json in the general form (an
// nn.Description with "loss" and "params"), one layer a line, whatever the
// network: one schema for every file, which ReadModel and the PyTorch
// exporter of docs/export.md share. θ is written exactly (the shortest
// decimal that reads back to the same float64, -0 included), so ReadModel
// gives back the same network, loss and θ bit for bit. Nothing is written
// on an error: a network nn.Describe cannot describe (a layer type of
// one's own), a loss nn.LossByName does not give back from its name, θ
// with NaN or Inf. WriteModel panics if θ does not have the network's
// length.
func WriteModel(w io.Writer, m *Model, theta []float64) error {
	if err := m.writable(theta); err != nil {
		return err
	}
	d, err := nn.Describe(m.Net)
	if err != nil {
		return fmt.Errorf("curvature: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"input_shape\": %s,\n  \"layers\": [\n", spaced(d.InputShape))
	if err := writeLayers(&b, d.Layers, "    "); err != nil {
		return err
	}
	b.WriteString("  ],\n")
	return finish(w, &b, m.Loss, theta)
}

// WriteModelMLP writes m and θ as model.json in the MLP form, for readers
// that know only that form: an error, before anything is written, unless
// the network is a chain of Dense layers each followed by at most one
// Elementwise activation (what nn.NewMLP builds), besides WriteModel's
// errors.
func WriteModelMLP(w io.Writer, m *Model, theta []float64) error {
	if err := m.writable(theta); err != nil {
		return err
	}
	sizes, acts, err := mlpShape(m.Net)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	names, _ := json.Marshal(acts)
	fmt.Fprintf(&b, "{\n  \"sizes\": %s,\n  \"activations\": %s,\n", spaced(sizes), spaced(names))
	return finish(w, &b, m.Loss, theta)
}

// mlpShape returns the sizes and activations of net in the MLP form, or an
// error naming the first layer that does not fit it.
func mlpShape(net *nn.Network) (sizes []int, acts []string, err error) {
	d, err := nn.Describe(net)
	if err != nil {
		return nil, nil, fmt.Errorf("curvature: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	for i, l := range d.Layers {
		why := ""
		switch {
		case l.Type == "linear":
			if len(sizes) == 0 {
				sizes = append(sizes, *l.InFeatures)
			}
			sizes = append(sizes, *l.OutFeatures)
			acts = append(acts, "identity")
			continue
		case l.Type == "identity":
			why = "an identity activation, which nn.NewMLP does not add"
		case nn.IsActivation(l.Type) && i > 0 && d.Layers[i-1].Type == "linear":
			acts[len(acts)-1] = l.Type
			continue
		case nn.IsActivation(l.Type):
			why = "an activation that does not follow a linear layer"
		default:
			why = "a " + l.Type + " layer"
		}
		return nil, nil, fmt.Errorf("curvature: layers[%d] is %s; the MLP form is linear layers each followed by at most one activation: write the general form", i, why)
	}
	return sizes, acts, nil
}

// writable checks what WriteModel and WriteModelMLP check first: a loss
// that nn.LossByName gives back from its name (with the class weights of
// weighted_softmax_ce, which must fit the network), and θ.
func (m *Model) writable(theta []float64) error {
	if err := m.check(); err != nil {
		return err
	}
	if P := m.Net.NumParams(); len(theta) != P {
		panic(fmt.Sprintf("curvature: θ has length %d, the network has %d parameters", len(theta), P))
	}
	if err := checkFinite("θ", theta); err != nil {
		return err
	}
	name := m.Loss.Name()
	named := m.Loss
	if w, ok := m.Loss.(nn.WeightedSoftmaxCrossEntropy); ok {
		if err := w.CheckWeights(m.Net.OutSize()); err != nil {
			return fmt.Errorf("curvature: %s", strings.TrimPrefix(err.Error(), "nn: "))
		}
		named = nn.WeightedSoftmaxCrossEntropy{} // the weights are written beside the name
	}
	if l, err := nn.LossByName(name); err != nil || !reflect.DeepEqual(l, named) {
		return fmt.Errorf("curvature: the loss %T (named %q) is not one nn.LossByName gives back, so model.json cannot name it", m.Loss, name)
	}
	return nil
}

// writeLayers writes one layer description a line, a residual block's
// body on lines of its own, each line starting with indent.
func writeLayers(b *bytes.Buffer, ds []nn.LayerDescription, indent string) error {
	for i, d := range ds {
		b.WriteString(indent)
		if d.Layers != nil {
			body := d.Layers
			d.Layers = nil
			head, err := json.Marshal(d)
			if err != nil {
				return err
			}
			fmt.Fprintf(b, "%s, \"layers\": [\n", spaced(head[:len(head)-1]))
			if err := writeLayers(b, body, indent+"  "); err != nil {
				return err
			}
			b.WriteString(indent + "]}")
		} else {
			line, err := json.Marshal(d)
			if err != nil {
				return err
			}
			b.Write(spaced(line))
		}
		if i+1 < len(ds) {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	return nil
}

// finish writes the loss (and its class weights) and θ after the network,
// closes the object, and writes b to w in one call.
func finish(w io.Writer, b *bytes.Buffer, loss nn.Loss, theta []float64) error {
	name, _ := json.Marshal(loss.Name())
	fmt.Fprintf(b, "  \"loss\": %s,\n", name)
	if l, ok := loss.(nn.WeightedSoftmaxCrossEntropy); ok && l.Weights != nil {
		b.WriteString("  \"class_weights\": ")
		writeNumbers(b, l.Weights)
		b.WriteString(",\n")
	}
	b.WriteString("  \"params\": ")
	writeNumbers(b, theta)
	b.WriteString("\n}\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("curvature: writing the model: %w", err)
	}
	return nil
}

// writeNumbers writes vs as a JSON array, each value the shortest decimal
// that parses back to it (a JSON number for every finite value).
func writeNumbers(b *bytes.Buffer, vs []float64) {
	buf := b.AvailableBuffer()
	buf = append(buf, '[')
	for i, v := range vs {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
	}
	buf = append(buf, ']')
	b.Write(buf)
}

// spaced returns v as JSON with a space after each colon and comma outside
// strings: {"type": "linear", "in_features": 4}.
func spaced(v any) []byte {
	raw, ok := v.([]byte)
	if !ok {
		raw, _ = json.Marshal(v) // ints and strings: cannot fail
	}
	out := make([]byte, 0, len(raw)+len(raw)/4)
	inString, escaped := false, false
	for _, c := range raw {
		out = append(out, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ':' || c == ','):
			out = append(out, ' ')
		}
	}
	return out
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
			// The offset after the key's opening quote, as a SyntaxError
			// gives the offset after the byte at fault: position makes
			// it the quote's 1-based column.
			start := int64(bytes.IndexByte(raw[before:], '"')) + before + 1
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

// jsonError turns a decoding error into one with a line and column where
// the decoder gives an offset.
func jsonError(raw []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(raw, syn.Offset)
		return fmt.Errorf("line %d, column %d: invalid JSON: %v", line, col, syn)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("the model is a JSON %s, want an object", typ.Value)
	case errors.As(err, &typ) && typ.Offset > 0:
		line, col := position(raw, typ.Offset)
		return fmt.Errorf("line %d, column %d: %q holds a JSON %s, want %v", line, col, typ.Field, typ.Value, typ.Type)
	case errors.As(err, &typ):
		return fmt.Errorf("%q holds a JSON %s, want %v", typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return errors.New("empty file, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends too early")
	}
	return fmt.Errorf("invalid model: %w", err)
}

// position returns the 1-based line and column of the byte before offset
// off (the byte a decoder had just read when it stopped at off).
func position(raw []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(raw)))
	before := raw[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}
