package testfunc

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/functions"
)

// Most of these functions are sums of squares f = Σ r_k², whose Hessian is
// 2Σ(∇r_k ∇r_kᵀ + r_k ∇²r_k); the types below write out ∇r_k and ∇²r_k
// for gonum's residuals.

// Beale is gonum's Beale with a correct Hessian: gonum's own (v0.17.0)
// puts x₁ where x₀ belongs in the residuals of its mixed derivative.
type Beale struct{ functions.Beale }

// Hess stores the Hessian of f at x in dst.
func (Beale) Hess(dst *mat.SymDense, x []float64) {
	start(dst, x, 2)
	a, b := x[0], x[1]
	// Residuals r_k = c_k − a(1 − b^k), k = 1, 2, 3, with ∂r/∂a = −(1 − b^k),
	// ∂r/∂b = k a b^(k−1), ∂²r/∂a∂b = k b^(k−1), ∂²r/∂b² = k(k−1) a b^(k−2).
	c := [3]float64{1.5, 2.25, 2.625}
	t := [3]float64{1 - b, 1 - b*b, 1 - b*b*b}
	db := [3]float64{a, 2 * a * b, 3 * a * b * b}
	dab := [3]float64{1, 2 * b, 3 * b * b}
	dbb := [3]float64{0, 2 * a, 6 * a * b}
	var h00, h01, h11 float64
	for k := range c {
		r := c[k] - a*t[k]
		h00 += t[k] * t[k]
		h01 += -t[k]*db[k] + r*dab[k]
		h11 += db[k]*db[k] + r*dbb[k]
	}
	dst.SetSym(0, 0, 2*h00)
	dst.SetSym(0, 1, 2*h01)
	dst.SetSym(1, 1, 2*h11)
}

// BiggsEXP6 is gonum's BiggsEXP6 with its Hessian.
type BiggsEXP6 struct{ functions.BiggsEXP6 }

// Hess stores the Hessian of f at x in dst.
func (BiggsEXP6) Hess(dst *mat.SymDense, x []float64) {
	start(dst, x, 6)
	var j [6]float64
	for i := 1; i <= 13; i++ {
		z := float64(i) / 10
		y := math.Exp(-z) - 5*math.Exp(-10*z) + 3*math.Exp(-4*z)
		e0, e1, e4 := math.Exp(-x[0]*z), math.Exp(-x[1]*z), math.Exp(-x[4]*z)
		r := x[2]*e0 - x[3]*e1 + x[5]*e4 - y
		j = [6]float64{-z * x[2] * e0, z * x[3] * e1, e0, -e1, -z * x[5] * e4, e4}
		addOuter(dst, 2, j[:])
		// r ∇²r: each exponential term couples its rate and its weight.
		add(dst, 0, 0, 2*r*z*z*x[2]*e0)
		add(dst, 0, 2, -2*r*z*e0)
		add(dst, 1, 1, -2*r*z*z*x[3]*e1)
		add(dst, 1, 3, 2*r*z*e1)
		add(dst, 4, 4, 2*r*z*z*x[5]*e4)
		add(dst, 4, 5, -2*r*z*e4)
	}
}

// Box3D is gonum's Box3D with its Hessian.
type Box3D struct{ functions.Box3D }

// Hess stores the Hessian of f at x in dst.
func (Box3D) Hess(dst *mat.SymDense, x []float64) {
	start(dst, x, 3)
	for i := 1; i <= 10; i++ {
		c := -float64(i) / 10
		y := math.Exp(c) - math.Exp(10*c)
		e0, e1 := math.Exp(c*x[0]), math.Exp(c*x[1])
		r := e0 - e1 - x[2]*y
		addOuter(dst, 2, []float64{c * e0, -c * e1, -y})
		add(dst, 0, 0, 2*r*c*c*e0)
		add(dst, 1, 1, -2*r*c*c*e1)
	}
}

// ExtendedPowellSingular is gonum's ExtendedPowellSingular with its
// Hessian, block diagonal in blocks of four.
type ExtendedPowellSingular struct {
	functions.ExtendedPowellSingular
}

// Hess stores the Hessian of f at x in dst.
func (ExtendedPowellSingular) Hess(dst *mat.SymDense, x []float64) {
	n := len(x)
	if n%4 != 0 {
		panic(fmt.Sprintf("testfunc: ExtendedPowellSingular dimension %d is not a multiple of 4", n))
	}
	start(dst, x, n)
	for i := 0; i < n; i += 4 {
		// (a + 10b)² + 5(c − d)² + (b − 2c)⁴ + 10(a − d)⁴.
		a, b, c, d := i, i+1, i+2, i+3
		u := x[b] - 2*x[c]
		v := x[a] - x[d]
		q := 12 * u * u  // second derivative of (·)⁴ at u
		w := 120 * v * v // of 10(·)⁴ at v
		add(dst, a, a, 2+w)
		add(dst, a, b, 20)
		add(dst, b, b, 200+q)
		add(dst, b, c, -2*q)
		add(dst, c, c, 10+4*q)
		add(dst, c, d, -10)
		add(dst, d, d, 10+w)
		add(dst, a, d, -w)
	}
}

// Gaussian is gonum's Gaussian with its Hessian.
type Gaussian struct{ functions.Gaussian }

// gaussianY are the data of the Gaussian function, y_i = y_{16−i}.
var gaussianY = [15]float64{0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
	0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009}

// Hess stores the Hessian of f at x in dst.
func (Gaussian) Hess(dst *mat.SymDense, x []float64) {
	start(dst, x, 3)
	for i := 1; i <= 15; i++ {
		// r = x₀ e − y with e = exp(−x₁ d/2), d = b², b = c − x₂.
		b := 0.5*float64(8-i) - x[2]
		d := b * b
		e := math.Exp(-0.5 * x[1] * d)
		r := x[0]*e - gaussianY[i-1]
		addOuter(dst, 2, []float64{e, -x[0] * e * d / 2, x[0] * x[1] * e * b})
		add(dst, 0, 1, -r*e*d)
		add(dst, 0, 2, 2*r*x[1]*e*b)
		add(dst, 1, 1, r*x[0]*e*d*d/2)
		add(dst, 1, 2, 2*r*x[0]*e*b*(1-x[1]*d/2))
		add(dst, 2, 2, 2*r*x[0]*x[1]*e*(x[1]*d-1))
	}
}

// GulfResearchAndDevelopment is gonum's GulfResearchAndDevelopment with its
// Hessian.
type GulfResearchAndDevelopment struct {
	functions.GulfResearchAndDevelopment
}

// Hess stores the Hessian of f at x in dst.
func (GulfResearchAndDevelopment) Hess(dst *mat.SymDense, x []float64) {
	start(dst, x, 3)
	var ht [3][3]float64
	for i := 1; i <= 99; i++ {
		// r = exp(−t) − a with t = |u − x₁|^x₂ / x₀.
		a := float64(i) / 100
		u := math.Pow(-50*math.Log(a), 2.0/3.0) + 25 - x[1]
		l := math.Log(math.Abs(u))
		t := math.Pow(math.Abs(u), x[2]) / x[0]
		e := math.Exp(-t)
		r := e - a
		dt := [3]float64{-t / x[0], -x[2] * t / u, t * l}
		ht[0][0] = 2 * t / (x[0] * x[0])
		ht[0][1] = x[2] * t / (u * x[0])
		ht[0][2] = -t * l / x[0]
		ht[1][1] = x[2] * (x[2] - 1) * t / (u * u)
		ht[1][2] = -t * (1 + x[2]*l) / u
		ht[2][2] = t * l * l
		// ∇r = −e∇t, ∇²r = e(∇t∇tᵀ − ∇²t).
		for p := 0; p < 3; p++ {
			for q := p; q < 3; q++ {
				add(dst, p, q, 2*(e*e*dt[p]*dt[q]+r*e*(dt[p]*dt[q]-ht[p][q])))
			}
		}
	}
}

// HelicalValley is gonum's HelicalValley with its Hessian (f is not
// defined at x₀ = 0).
type HelicalValley struct{ functions.HelicalValley }

// Hess stores the Hessian of f at x in dst.
func (HelicalValley) Hess(dst *mat.SymDense, x []float64) {
	start(dst, x, 3)
	// f = 100s² + 100(ρ − 1)² + x₂², s = x₂ − 10θ, θ = atan(x₁/x₀)/2π
	// (+ 1/2 for x₀ < 0), ρ = √(x₀² + x₁²).
	theta := 0.5 * math.Atan(x[1]/x[0]) / math.Pi
	if x[0] < 0 {
		theta += 0.5
	}
	s := x[2] - 10*theta
	rho := math.Hypot(x[0], x[1])
	r2 := rho * rho
	pr2, pr4 := math.Pi*r2, math.Pi*r2*r2
	addOuter(dst, 200, []float64{5 * x[1] / pr2, -5 * x[0] / pr2, 1})
	add(dst, 0, 0, 200*s*(-10*x[0]*x[1]/pr4))
	add(dst, 0, 1, 200*s*5*(x[0]*x[0]-x[1]*x[1])/pr4)
	add(dst, 1, 1, 200*s*10*x[0]*x[1]/pr4)
	addOuter(dst, 200, []float64{x[0] / rho, x[1] / rho, 0})
	r3 := r2 * rho
	add(dst, 0, 0, 200*(rho-1)*x[1]*x[1]/r3)
	add(dst, 0, 1, -200*(rho-1)*x[0]*x[1]/r3)
	add(dst, 1, 1, 200*(rho-1)*x[0]*x[0]/r3)
	add(dst, 2, 2, 2)
}

// PenaltyI is gonum's PenaltyI with its Hessian,
// (2·10⁻⁵ + 4(‖x‖² − 1/4))I + 8xxᵀ.
type PenaltyI struct{ functions.PenaltyI }

// Hess stores the Hessian of f at x in dst.
func (PenaltyI) Hess(dst *mat.SymDense, x []float64) {
	n := len(x)
	start(dst, x, n)
	s := -0.25
	for _, v := range x {
		s += v * v
	}
	addOuter(dst, 8, x)
	for i := range x {
		add(dst, i, i, 2e-5+4*s)
	}
}

// PenaltyII is gonum's PenaltyII with its Hessian.
type PenaltyII struct{ functions.PenaltyII }

// Hess stores the Hessian of f at x in dst.
func (PenaltyII) Hess(dst *mat.SymDense, x []float64) {
	n := len(x)
	start(dst, x, n)
	// (Σ(n−i)x_i² − 1)² with weights w_i = n − i.
	s := -1.0
	v := make([]float64, n)
	for i, xi := range x {
		w := float64(n - i)
		s += w * xi * xi
		v[i] = w * xi
	}
	addOuter(dst, 8, v)
	for i := range x {
		add(dst, i, i, 4*s*float64(n-i))
	}
	add(dst, 0, 0, 2) // (x₀ − 0.2)²
	// 10⁻⁵ Σ (e_i + e_{i−1} − y_i)² + (e_i − e^{−1/10})², e_i = exp(x_i/10).
	em := math.Exp(x[0] / 10)
	for i := 1; i < n; i++ {
		e := math.Exp(x[i] / 10)
		y := math.Exp(float64(i+1)/10) + math.Exp(float64(i)/10)
		a := e + em - y
		b := e - math.Exp(-0.1)
		add(dst, i, i, 2e-5*(e*e+a*e+e*e+b*e)/100)
		add(dst, i-1, i-1, 2e-5*(em*em+a*em)/100)
		add(dst, i-1, i, 2e-5*e*em/100)
		em = e
	}
}

// Trigonometric is gonum's Trigonometric with its Hessian.
type Trigonometric struct{ functions.Trigonometric }

// Hess stores the Hessian of f at x in dst.
func (Trigonometric) Hess(dst *mat.SymDense, x []float64) {
	n := len(x)
	start(dst, x, n)
	// r_i = n + i − i cos x_i − sin x_i − Σ_j cos x_j (i from 1), so
	// ∇r_i = s + w_i e_i with s_j = sin x_j, w_i = i sin x_i − cos x_i, and
	// ∇²r_i = diag(cos x_j) + (i cos x_i + sin x_i) e_i e_iᵀ.
	var sc float64
	for _, v := range x {
		sc += math.Cos(v)
	}
	sin := make([]float64, n)
	w := make([]float64, n)
	r := make([]float64, n)
	var sr float64
	for i, v := range x {
		k := float64(i + 1)
		sin[i] = math.Sin(v)
		w[i] = k*sin[i] - math.Cos(v)
		r[i] = float64(n) + k - k*math.Cos(v) - sin[i] - sc
		sr += r[i]
	}
	raw := dst.RawSymmetric()
	for j := 0; j < n; j++ {
		row := raw.Data[j*raw.Stride:]
		for k := j; k < n; k++ {
			row[k] = 2 * (float64(n)*sin[j]*sin[k] + sin[j]*w[k] + w[j]*sin[k])
		}
		k := float64(j + 1)
		row[j] += 2 * (w[j]*w[j] + sr*math.Cos(x[j]) + r[j]*(k*math.Cos(x[j])+sin[j]))
	}
}

// VariablyDimensioned is gonum's VariablyDimensioned with its Hessian,
// 2I + (2 + 12s²)wwᵀ with w_i = i (from 1) and s = Σ w_i(x_i − 1).
type VariablyDimensioned struct {
	functions.VariablyDimensioned
}

// Hess stores the Hessian of f at x in dst.
func (VariablyDimensioned) Hess(dst *mat.SymDense, x []float64) {
	n := len(x)
	start(dst, x, n)
	var s float64
	w := make([]float64, n)
	for i, v := range x {
		w[i] = float64(i + 1)
		s += w[i] * (v - 1)
	}
	addOuter(dst, 2+12*s*s, w)
	for i := range x {
		add(dst, i, i, 2)
	}
}

// start checks that dst is n×n for x of length n and zeroes it.
func start(dst *mat.SymDense, x []float64, n int) {
	if len(x) != n {
		panic(fmt.Sprintf("testfunc: point has length %d, the function dimension %d", len(x), n))
	}
	if dst.SymmetricDim() != n {
		panic(fmt.Sprintf("testfunc: Hessian dimension %d, len(x) = %d", dst.SymmetricDim(), n))
	}
	raw := dst.RawSymmetric()
	for i := 0; i < n; i++ {
		clear(raw.Data[i*raw.Stride+i : i*raw.Stride+n])
	}
}

// add adds v to entry (i, j), i ≤ j, of the upper triangle.
func add(dst *mat.SymDense, i, j int, v float64) {
	raw := dst.RawSymmetric()
	raw.Data[i*raw.Stride+j] += v
}

// addOuter adds c·uuᵀ to dst.
func addOuter(dst *mat.SymDense, c float64, u []float64) {
	raw := dst.RawSymmetric()
	for i, ui := range u {
		if ui == 0 {
			continue
		}
		row := raw.Data[i*raw.Stride:]
		cu := c * ui
		for j := i; j < len(u); j++ {
			row[j] += cu * u[j]
		}
	}
}
