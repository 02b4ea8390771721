package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Description is a network in PyTorch's terms, the general form of
// model.json without its loss and parameters: the shape of one sample's
// input and the layers in order, as an nn.Sequential lists its modules.
// Layers give only what PyTorch's constructors take (no input heights or
// widths): Network propagates the shape from InputShape through the
// layers, and Describe tracks it the other way.
//
// As JSON (encoding/json):
//
//	{"input_shape": [1, 8, 8],
//	 "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": [3, 3], "padding": [1, 1]},
//	            {"type": "tanh"},
//	            {"type": "avgpool2d", "kernel_size": [2, 2]},
//	            {"type": "flatten"},
//	            {"type": "linear", "in_features": 64, "out_features": 10},
//	            {"type": "residual", "layers": [{"type": "layernorm", "normalized_shape": 10}, {"type": "linear", "in_features": 10, "out_features": 10}]}]}
type Description struct {
	// InputShape is a sample's input: [C, H, W] for an image (its row
	// holds the tensor flattened C×H×W) or [D] for D features.
	InputShape Dims `json:"input_shape"`
	// Layers are the layers in order.
	Layers []LayerDescription `json:"layers"`
}

// LayerDescription is one layer of a Description. Type names the layer
// (case-insensitive):
//
//	conv2d      Conv2d: in_channels, out_channels, kernel_size, stride (default 1), padding (default 0)
//	avgpool2d   AvgPool2d: kernel_size, stride (default kernel_size); padding 0 only
//	maxpool2d   MaxPool2d: the same
//	flatten     Flatten: C×H×W → C·H·W (on features, the identity)
//	linear      Dense: in_features, out_features (with a bias)
//	layernorm   LayerNorm: normalized_shape (the input's last dimensions), eps (default 1e-5)
//	residual    Residual: layers, the body, which keeps the input's shape
//
// and any other type is an activation (ActivationByName: tanh, relu, …;
// identity included), an Elementwise layer. A field a type does not take
// must be absent. A kernel_size, stride, padding or normalized_shape given
// as one number n means [n, n] for the first three and [n] for the last,
// as PyTorch reads them.
type LayerDescription struct {
	Type            string             `json:"type"`
	InChannels      *int               `json:"in_channels,omitempty"`
	OutChannels     *int               `json:"out_channels,omitempty"`
	KernelSize      Dims               `json:"kernel_size,omitempty"`
	Stride          Dims               `json:"stride,omitempty"`
	Padding         Dims               `json:"padding,omitempty"`
	InFeatures      *int               `json:"in_features,omitempty"`
	OutFeatures     *int               `json:"out_features,omitempty"`
	NormalizedShape Dims               `json:"normalized_shape,omitempty"`
	Eps             *float64           `json:"eps,omitempty"`
	Layers          []LayerDescription `json:"layers,omitempty"`
}

// Dims is a list of sizes. From JSON it takes a list or one number (a list
// of one); null or absent is nil.
type Dims []int

// UnmarshalJSON reads a number or a list of numbers.
func (d *Dims) UnmarshalJSON(raw []byte) error {
	// The errors have no offset: one relative to raw would put a line and
	// column on the wrong place of the whole document.
	bad := func(what string) error {
		return &json.UnmarshalTypeError{Value: what, Type: reflect.TypeFor[[]int]()}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return bad("number " + string(raw)) // out of float64's range
	}
	switch v.(type) {
	case nil:
		*d = nil
		return nil
	case float64:
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			return bad("number " + string(raw))
		}
		*d = Dims{n}
		return nil
	case []any:
		var ns []int
		if err := json.Unmarshal(raw, &ns); err != nil {
			return bad("list " + string(raw))
		}
		*d = Dims(ns)
		return nil
	case string:
		return bad("string")
	case bool:
		return bad("bool")
	}
	return bad("object")
}

// MaxSize bounds every size a Description may give — a dimension, a
// tensor's size, a convolution's patch length In·kh·kw + 1 — so that
// parameter counts cannot overflow: the model.json limit on widths.
const MaxSize = 1 << 20

// shape is a sample's tensor shape: [D] or [C, H, W].
type shape []int

func (s shape) size() int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

func (s shape) String() string {
	if len(s) == 1 {
		return fmt.Sprintf("a vector of %d features", s[0])
	}
	return fmt.Sprintf("a %d×%d×%d tensor", s[0], s[1], s[2])
}

func (s shape) equal(t shape) bool {
	return reflect.DeepEqual([]int(s), []int(t))
}

// product returns the product of positive xs, and false when it exceeds
// MaxSize (checked at each step, so it cannot overflow).
func product(xs ...int) (int, bool) {
	p := 1
	for _, x := range xs {
		p *= x
		if p > MaxSize {
			return 0, false
		}
	}
	return p, true
}

// Network returns the network d describes, or an error naming the layer
// (its index in the list, as layers[2].layers[0] inside a residual body) and
// the field at fault: an unknown type, a missing field or one the type does
// not take, a size that does not match the input the layer gets (an
// in_features that is not what the flatten before it gives), a kernel that
// does not fit.
func (d Description) Network() (*Network, error) {
	in, err := inputShape(d.InputShape)
	if err != nil {
		return nil, err
	}
	if d.Layers == nil {
		return nil, errors.New(`nn: "layers" is missing`)
	}
	if len(d.Layers) == 0 {
		return nil, errors.New(`nn: "layers" is empty`)
	}
	layers, _, err := buildLayers(d.Layers, in, "layers")
	if err != nil {
		return nil, err
	}
	return New(layers...)
}

func inputShape(d Dims) (shape, error) {
	if d == nil {
		return nil, errors.New(`nn: "input_shape" is missing`)
	}
	if len(d) != 1 && len(d) != 3 {
		return nil, fmt.Errorf(`nn: "input_shape" is %v; want [C, H, W] or [D]`, []int(d))
	}
	for i, v := range d {
		if v <= 0 {
			return nil, fmt.Errorf(`nn: "input_shape" is %v; sizes must be positive (entry %d is %d)`, []int(d), i, v)
		}
	}
	if _, ok := product(d...); !ok {
		return nil, fmt.Errorf(`nn: "input_shape" is %v; inputs above %d values are not supported`, []int(d), MaxSize)
	}
	return shape(d), nil
}

// buildLayers returns the layers of ds, the first taking a sample of shape
// in, and the shape of the last one's output. path names the list in
// errors.
func buildLayers(ds []LayerDescription, in shape, path string) ([]Layer, shape, error) {
	var layers []Layer
	for i, d := range ds {
		l, out, err := d.build(in, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, nil, err
		}
		layers = append(layers, l)
		in = out
	}
	return layers, in, nil
}

// layerTypes are the layer types other than activations, in the order
// errors list them.
var layerTypes = []string{"conv2d", "linear", "avgpool2d", "maxpool2d", "flatten", "layernorm", "residual"}

// layerFields lists the fields each layer type takes (activations none).
var layerFields = map[string][]string{
	"conv2d":    {"in_channels", "out_channels", "kernel_size", "stride", "padding"},
	"avgpool2d": {"kernel_size", "stride", "padding"},
	"maxpool2d": {"kernel_size", "stride", "padding"},
	"flatten":   nil,
	"linear":    {"in_features", "out_features"},
	"layernorm": {"normalized_shape", "eps"},
	"residual":  {"layers"},
}

// fields lists the JSON names of the fields d sets, other than type.
func (d LayerDescription) fields() []string {
	var f []string
	add := func(name string, set bool) {
		if set {
			f = append(f, name)
		}
	}
	add("in_channels", d.InChannels != nil)
	add("out_channels", d.OutChannels != nil)
	add("kernel_size", d.KernelSize != nil)
	add("stride", d.Stride != nil)
	add("padding", d.Padding != nil)
	add("in_features", d.InFeatures != nil)
	add("out_features", d.OutFeatures != nil)
	add("normalized_shape", d.NormalizedShape != nil)
	add("eps", d.Eps != nil)
	add("layers", d.Layers != nil)
	return f
}

// layerError is the error of a layer description; where names it.
type layerError struct{ where string }

func (e layerError) errorf(format string, args ...any) error {
	return fmt.Errorf("nn: %s: "+format, append([]any{e.where}, args...)...)
}

// count returns the positive size in field name, or an error.
func (e layerError) count(name string, v *int) (int, error) {
	switch {
	case v == nil:
		return 0, e.errorf("%q is missing", name)
	case *v <= 0:
		return 0, e.errorf("%q is %d; want a positive size", name, *v)
	case *v > MaxSize:
		return 0, e.errorf("%q is %d; sizes above %d are not supported", name, *v, MaxSize)
	}
	return *v, nil
}

// pair returns the [height, width] in field name, def when the field is
// absent (or an error when def is nil), each entry at least lo.
func (e layerError) pair(name string, d Dims, def []int, lo int) ([2]int, error) {
	switch {
	case d == nil && def == nil:
		return [2]int{}, e.errorf("%q is missing", name)
	case d == nil:
		return [2]int{def[0], def[1]}, nil
	case len(d) == 1:
		d = Dims{d[0], d[0]}
	case len(d) != 2:
		return [2]int{}, e.errorf("%q is %v; want [height, width] or one number", name, []int(d))
	}
	for _, v := range d {
		if v < lo {
			return [2]int{}, e.errorf("%q is %v; want entries of at least %d", name, []int(d), lo)
		}
		if v > MaxSize {
			return [2]int{}, e.errorf("%q is %v; sizes above %d are not supported", name, []int(d), MaxSize)
		}
	}
	return [2]int{d[0], d[1]}, nil
}

// image returns the C, H and W of in, or an error when in is a vector.
func (e layerError) image(in shape, typ string) (c, h, w int, err error) {
	if len(in) != 3 {
		return 0, 0, 0, e.errorf("its input is %v; %s takes a C×H×W tensor", in, typ)
	}
	return in[0], in[1], in[2], nil
}

// build returns the layer d describes for an input of shape in, and its
// output's shape.
func (d LayerDescription) build(in shape, path string) (Layer, shape, error) {
	if d.Type == "" {
		return nil, nil, fmt.Errorf(`nn: %s: "type" is missing`, path)
	}
	typ := strings.ToLower(d.Type)
	e := layerError{where: fmt.Sprintf("%s (%s)", path, d.Type)}
	fields, known := layerFields[typ]
	var act Activation
	if !known {
		var err error
		if act, err = ActivationByName(typ); err != nil {
			return nil, nil, e.errorf("unknown layer type %q (want %s, or an activation: %s)",
				d.Type, strings.Join(layerTypes, ", "), strings.Join(activationList(), ", "))
		}
	}
	for _, f := range d.fields() {
		if !slices.Contains(fields, f) {
			return nil, nil, e.errorf("%q does not apply to a %s layer", f, typ)
		}
	}
	switch typ {
	case "conv2d":
		return d.conv2d(e, in)
	case "avgpool2d", "maxpool2d":
		return d.pool(e, in, typ)
	case "flatten":
		if len(in) == 1 {
			return Flatten{C: in[0], H: 1, W: 1}, in, nil
		}
		return Flatten{C: in[0], H: in[1], W: in[2]}, shape{in.size()}, nil
	case "linear":
		return d.linear(e, in)
	case "layernorm":
		return d.layerNorm(e, in)
	case "residual":
		if len(d.Layers) == 0 {
			return nil, nil, e.errorf(`"layers" is missing or empty; a residual block needs a body`)
		}
		body, out, err := buildLayers(d.Layers, in, path+".layers")
		if err != nil {
			return nil, nil, err
		}
		if !out.equal(in) {
			return nil, nil, e.errorf("its body turns %v into %v; a residual block keeps its input's shape", in, out)
		}
		return Residual(body...), in, nil
	}
	return Elementwise{Size: in.size(), Act: act}, in, nil
}

func (d LayerDescription) conv2d(e layerError, in shape) (Layer, shape, error) {
	c, h, w, err := e.image(in, "conv2d")
	if err != nil {
		return nil, nil, err
	}
	inCh, err := e.count("in_channels", d.InChannels)
	if err != nil {
		return nil, nil, err
	}
	if inCh != c {
		return nil, nil, e.errorf(`"in_channels" is %d but its input is %v`, inCh, in)
	}
	out, err := e.count("out_channels", d.OutChannels)
	if err != nil {
		return nil, nil, err
	}
	kernel, err := e.pair("kernel_size", d.KernelSize, nil, 1)
	if err != nil {
		return nil, nil, err
	}
	stride, err := e.pair("stride", d.Stride, []int{1, 1}, 1)
	if err != nil {
		return nil, nil, err
	}
	padding, err := e.pair("padding", d.Padding, []int{0, 0}, 0)
	if err != nil {
		return nil, nil, err
	}
	if p, ok := product(inCh, kernel[0], kernel[1]); !ok || p+1 > MaxSize {
		return nil, nil, e.errorf("a patch of %d×%d×%d inputs is over the limit of %d", inCh, kernel[0], kernel[1], MaxSize)
	}
	l := Conv2d{In: c, Out: out, H: h, W: w, Kernel: kernel, Stride: stride, Padding: padding}
	if err := l.Validate(); err != nil {
		return nil, nil, e.errorf("%v", err)
	}
	shp, err := e.outShape(l.OutShape())
	return l, shp, err
}

// outShape returns the C×H×W shape, or an error when it is over MaxSize.
func (e layerError) outShape(c, h, w int) (shape, error) {
	if _, ok := product(c, h, w); !ok {
		return nil, e.errorf("its output %d×%d×%d is over the limit of %d values", c, h, w, MaxSize)
	}
	return shape{c, h, w}, nil
}

func (d LayerDescription) pool(e layerError, in shape, typ string) (Layer, shape, error) {
	c, h, w, err := e.image(in, typ)
	if err != nil {
		return nil, nil, err
	}
	kernel, err := e.pair("kernel_size", d.KernelSize, nil, 1)
	if err != nil {
		return nil, nil, err
	}
	stride, err := e.pair("stride", d.Stride, kernel[:], 1)
	if err != nil {
		return nil, nil, err
	}
	padding, err := e.pair("padding", d.Padding, []int{0, 0}, 0)
	if err != nil {
		return nil, nil, err
	}
	if padding != [2]int{} {
		return nil, nil, e.errorf(`"padding" is %v; pooling takes no padding`, padding)
	}
	var l interface {
		Layer
		Validator
		OutShape() (int, int, int)
	}
	if typ == "avgpool2d" {
		l = AvgPool2d{C: c, H: h, W: w, Kernel: kernel, Stride: stride}
	} else {
		l = MaxPool2d{C: c, H: h, W: w, Kernel: kernel, Stride: stride}
	}
	if err := l.Validate(); err != nil {
		return nil, nil, e.errorf("%v", err)
	}
	out, err := e.outShape(l.OutShape())
	return l, out, err
}

func (d LayerDescription) linear(e layerError, in shape) (Layer, shape, error) {
	if len(in) != 1 {
		return nil, nil, e.errorf("its input is %v; put a flatten before a linear layer", in)
	}
	nIn, err := e.count("in_features", d.InFeatures)
	if err != nil {
		return nil, nil, err
	}
	if nIn != in[0] {
		return nil, nil, e.errorf(`"in_features" is %d but its input is %v`, nIn, in)
	}
	out, err := e.count("out_features", d.OutFeatures)
	if err != nil {
		return nil, nil, err
	}
	return Dense{In: nIn, Out: out}, shape{out}, nil
}

func (d LayerDescription) layerNorm(e layerError, in shape) (Layer, shape, error) {
	ns := []int(d.NormalizedShape)
	if ns == nil {
		return nil, nil, e.errorf(`"normalized_shape" is missing`)
	}
	if len(ns) == 0 || len(ns) > len(in) || !reflect.DeepEqual(ns, []int(in[len(in)-len(ns):])) {
		var want []string
		for k := len(in) - 1; k >= 0; k-- {
			want = append(want, fmt.Sprint([]int(in[k:])))
		}
		return nil, nil, e.errorf(`"normalized_shape" is %v; for %v it is the input's last dimensions, one of %s`,
			ns, in, strings.Join(want, ", "))
	}
	eps := DefaultLayerNormEps
	if d.Eps != nil {
		eps = *d.Eps
		if !(eps > 0) || math.IsInf(eps, 1) {
			return nil, nil, e.errorf(`"eps" is %v; want a finite ε > 0`, eps)
		}
	}
	D := shape(ns).size()
	return LayerNorm{Size: in.size(), Normalized: D, Eps: eps}, in, nil
}

// activationList lists the names ActivationByName accepts, sorted, without
// aliases.
func activationList() []string {
	names := []string{"identity", "tanh", "sigmoid", "relu", "softplus", "elu", "gelu"}
	sort.Strings(names)
	return names
}

// Describe returns the description of net, its input shape inferred from
// its layers, or an error naming the first layer that model.json cannot
// describe: a layer type of its own (only nn's layers have a description),
// an activation that ActivationByName does not give back, or a layer whose
// input the chain of shapes does not explain (a Conv2d after a Dense
// layer, with no Flatten-like step PyTorch would need; a LayerNorm whose
// groups are not the input's last dimensions). Described and built again
// by Network, net gives a network of the same layers (with zero settings
// replaced by the defaults they stand for: a Conv2d stride of 1, a pooling
// stride equal to the kernel, LayerNorm's Normalized and Eps).
func Describe(net *Network) (Description, error) {
	in := describedInput(net.Layers)
	w := describer{net: net, used: make([]bool, len(net.skips))}
	layers, _, err := w.describe(0, len(net.Layers), in)
	if err != nil {
		return Description{}, err
	}
	return Description{InputShape: Dims(in), Layers: layers}, nil
}

// describedInput returns the input shape that the first layer with an
// opinion gives: an image for a convolution, a pooling or a flatten layer,
// a vector for a Dense layer or anything else. Activations say nothing; a
// LayerNorm over groups smaller than the row says that the input is a
// tensor whose last dimensions make up its groups, which is all a network
// of activations and layer norms needs.
func describedInput(layers []Layer) shape {
	size := layers[0].InSize()
	var groups []int // distinct LayerNorm group sizes below size
	for _, l := range layers {
		switch l := l.(type) {
		case Conv2d:
			return shape{l.In, l.H, l.W}
		case AvgPool2d:
			return shape{l.C, l.H, l.W}
		case MaxPool2d:
			return shape{l.C, l.H, l.W}
		case Flatten:
			return shape{l.C, l.H, l.W}
		case Elementwise:
		case LayerNorm:
			if d := l.d(); d < size && !slices.Contains(groups, d) {
				groups = append(groups, d)
			}
		default:
			return groupShape(size, groups)
		}
	}
	return groupShape(size, groups)
}

// groupShape returns [size] without groups, and otherwise a C×H×W shape
// whose last dimensions make up each group: [size/d, 1, d] for one group
// size d, [size/e, e/d, d] for two, d < e. More than two group sizes, or
// sizes that do not divide one another, have no such shape: Describe then
// refuses the second LayerNorm that does not fit.
func groupShape(size int, groups []int) shape {
	slices.Sort(groups)
	switch {
	case len(groups) == 0:
		return shape{size}
	case len(groups) == 1 || groups[1]%groups[0] != 0:
		return shape{size / groups[0], 1, groups[0]}
	}
	return shape{size / groups[1], groups[1] / groups[0], groups[0]}
}

// describer walks a network's layers and skip edges.
type describer struct {
	net  *Network
	used []bool // used[i]: skip edge i is described
}

// describe returns the descriptions of layers [lo, hi) given an input of
// shape in, with the residual blocks that lie inside the range, and the
// shape of the output.
func (w *describer) describe(lo, hi int, in shape) ([]LayerDescription, shape, error) {
	var out []LayerDescription
	for k := lo; k < hi; {
		if i := w.outermost(k, hi); i >= 0 {
			s := w.net.skips[i]
			w.used[i] = true
			body, bodyOut, err := w.describe(k, s.To+1, in)
			if err != nil {
				return nil, nil, err
			}
			if !bodyOut.equal(in) {
				return nil, nil, fmt.Errorf("nn: the residual block of layers %d–%d turns %v into %v; model.json's residual keeps its input's shape",
					s.From, s.To, in, bodyOut)
			}
			out = append(out, LayerDescription{Type: "residual", Layers: body})
			k = s.To + 1
			continue
		}
		d, next, err := describeLayer(w.net.Layers[k], in)
		if err != nil {
			return nil, nil, fmt.Errorf("nn: layer %d (%v): %w", k, describeName(w.net.Layers[k]), err)
		}
		out = append(out, d)
		in = next
		k++
	}
	return out, in, nil
}

// outermost returns the index of the unused skip edge that starts at layer
// k and ends before hi with the largest span — the outermost block when
// blocks nest, the later edge when two share their span (New records the
// inner block first) — or −1.
func (w *describer) outermost(k, hi int) int {
	best := -1
	for i, s := range w.net.skips {
		if w.used[i] || s.From != k || s.To >= hi {
			continue
		}
		if best < 0 || s.To >= w.net.skips[best].To {
			best = i
		}
	}
	return best
}

func describeName(l Layer) string {
	if s, ok := l.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", l)
}

func intp(v int) *int { return &v }

// describeLayer returns the description of l given an input of shape in,
// and the shape of its output.
func describeLayer(l Layer, in shape) (LayerDescription, shape, error) {
	image := func(c, h, w int) error {
		if !in.equal(shape{c, h, w}) {
			return fmt.Errorf("it takes a %d×%d×%d tensor, but its input is %v: model.json has no reshape", c, h, w, in)
		}
		return nil
	}
	switch l := l.(type) {
	case Dense:
		if len(in) != 1 {
			return LayerDescription{}, nil, fmt.Errorf("its input is %v; model.json needs a flatten before a linear layer", in)
		}
		return LayerDescription{Type: "linear", InFeatures: intp(l.In), OutFeatures: intp(l.Out)}, shape{l.Out}, nil
	case Elementwise:
		a, err := ActivationByName(l.Act.Name())
		if err != nil || !reflect.DeepEqual(a, l.Act) {
			return LayerDescription{}, nil, fmt.Errorf("activation %T (named %q) is not one ActivationByName gives", l.Act, l.Act.Name())
		}
		return LayerDescription{Type: a.Name()}, in, nil
	case Conv2d:
		if err := image(l.In, l.H, l.W); err != nil {
			return LayerDescription{}, nil, err
		}
		g := l.geom()
		c, h, w := l.OutShape()
		return LayerDescription{
			Type: "conv2d", InChannels: intp(l.In), OutChannels: intp(l.Out),
			KernelSize: Dims{g.kh, g.kw}, Stride: Dims{g.sh, g.sw}, Padding: Dims{g.ph, g.pw},
		}, shape{c, h, w}, nil
	case AvgPool2d:
		return describePool("avgpool2d", pool2d(l), image)
	case MaxPool2d:
		return describePool("maxpool2d", pool2d(l), image)
	case Flatten:
		if len(in) == 1 && l.H == 1 && l.W == 1 {
			return LayerDescription{Type: "flatten"}, in, nil
		}
		if err := image(l.C, l.H, l.W); err != nil {
			return LayerDescription{}, nil, err
		}
		return LayerDescription{Type: "flatten"}, shape{in.size()}, nil
	case LayerNorm:
		D, p := l.d(), 1
		for k := len(in) - 1; k >= 0; k-- {
			p *= in[k]
			if p == D {
				eps := l.eps()
				return LayerDescription{Type: "layernorm", NormalizedShape: Dims(in[k:]), Eps: &eps}, in, nil
			}
		}
		return LayerDescription{}, nil, fmt.Errorf("groups of %d are not the last dimensions of its input, %v", D, in)
	}
	return LayerDescription{}, nil, fmt.Errorf("model.json has no description of a %T layer", l)
}

func describePool(typ string, p pool2d, image func(c, h, w int) error) (LayerDescription, shape, error) {
	if err := image(p.C, p.H, p.W); err != nil {
		return LayerDescription{}, nil, err
	}
	g := p.geom()
	return LayerDescription{Type: typ, KernelSize: Dims{g.kh, g.kw}, Stride: Dims{g.sh, g.sw}},
		shape{p.C, g.oh, g.ow}, nil
}

// IsActivation reports whether a layer description's type is an activation
// (what ActivationByName accepts) rather than one of the other layer types.
func IsActivation(typ string) bool {
	if typ == "" {
		return false
	}
	if _, layer := layerFields[strings.ToLower(typ)]; layer {
		return false
	}
	_, err := ActivationByName(typ)
	return err == nil
}
