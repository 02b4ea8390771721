package approx

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/curvkit/curvkit/curvature/nn"
	"github.com/curvkit/curvkit/internal/binstate"
)

// The saved-state format of a K-FAC; MarshalBinary documents it.
const (
	kfacMagic   = "CKKFACST"
	kfacVersion = 1
	kfacKind    = "approx.KFAC"
)

// MarshalBinary returns the K-FAC's state exactly: statistics, the
// factorisations in use and its own label generator (save a Settings.Rand's
// source alongside), so that UnmarshalBinary continues exactly. It returns an
// error for non-finite statistics.
func (k *KFAC) MarshalBinary() ([]byte, error) {
	if err := k.checkStats(); err != nil {
		return nil, err
	}
	// "CKKFACST", version, kind, settings and block shapes, generator,
	// each block's values, CRC-32; little-endian, as firstorder's states.
	var buf bytes.Buffer
	e := binstate.NewEncoder(&buf)
	e.Header(kfacMagic, kfacVersion, kfacKind)
	k.encodeShape(e)
	e.Bool(k.pcg != nil)
	if k.pcg != nil {
		b, err := k.pcg.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("approx: saving K-FAC: %w", err)
		}
		e.Blob(b)
	}
	for _, p := range k.parts {
		switch p := p.(type) {
		case *Kron:
			p.encode(e)
		case *SymMatrix:
			p.encode(e)
		case *Diagonal:
			e.Floats(p.d)
		}
	}
	if err := e.Close(); err != nil {
		return nil, fmt.Errorf("approx: saving K-FAC: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary restores a state MarshalBinary returned. It returns an
// error, and leaves the K-FAC as it was, for data that are not such a state or
// are corrupt, come from another network shape or settings, or hold values no
// sequence of updates gives (non-finite values, a negative diagonal entry of a
// factor, a Cholesky factor with a non-positive diagonal).
func (k *KFAC) UnmarshalBinary(data []byte) error {
	if err := k.unmarshal(data); err != nil {
		return fmt.Errorf("approx: loading K-FAC: %w", err)
	}
	k.unsure = !k.diagonalsNonNegative()
	return nil
}

func (k *KFAC) unmarshal(data []byte) error {
	r := bytes.NewReader(data)
	d := binstate.NewDecoder(r)
	if err := d.Header(kfacMagic, kfacVersion, kfacKind, "a K-FAC state"); err != nil {
		return err
	}
	if err := k.checkShape(d); err != nil {
		return err
	}
	var pcg *rand.PCG
	if own := d.Bool(); d.Err() == nil && own != (k.pcg != nil) {
		if own {
			return errors.New("the state has the K-FAC's own random generator, this K-FAC draws from the caller's (Settings.Rand)")
		}
		return errors.New("the state's K-FAC drew from the caller's random generator (Settings.Rand), this one has its own")
	} else if own {
		pcg = new(rand.PCG)
		if b := d.Blob(64); d.Err() == nil {
			if err := pcg.UnmarshalBinary(b); err != nil {
				return fmt.Errorf("random generator: %w", err)
			}
		}
	}
	blocks := make([]any, len(k.parts))
	for i, p := range k.parts {
		if d.Err() != nil {
			break
		}
		switch p := p.(type) {
		case *Kron:
			blocks[i] = decodeKron(d, p.p, p.q)
		case *SymMatrix:
			blocks[i] = decodeSym(d, p.Dim())
		case *Diagonal:
			v := make([]float64, len(p.d))
			d.Floats(v)
			blocks[i] = v
		}
	}
	if err := d.Close(); err != nil {
		return err
	}
	if r.Len() > 0 {
		return fmt.Errorf("%d bytes after the state", r.Len())
	}
	for i, b := range blocks {
		var err error
		switch b := b.(type) {
		case *kronState:
			err = b.check()
		case *symState:
			err = b.check()
		case []float64:
			err = checkStatistic("diagonal", b, len(b), 1)
		}
		if err != nil {
			return fmt.Errorf("layer %d: %w", k.blocks[i].layer, err)
		}
	}

	// Everything checked: apply.
	if pcg != nil {
		*k.pcg = *pcg
	}
	for i, p := range k.parts {
		switch p := p.(type) {
		case *Kron:
			p.restore(blocks[i].(*kronState))
		case *SymMatrix:
			p.restore(blocks[i].(*symState))
		case *Diagonal:
			copy(p.d, blocks[i].([]float64))
		}
	}
	return nil
}

// encodeShape writes what a state must agree on with the K-FAC it is
// loaded into: the settings that shape the statistics and their
// factorisations, and every block's structure and size.
func (k *KFAC) encodeShape(e *binstate.Encoder) {
	s := &k.set
	e.Bytes([]byte{byte(s.Factors), byte(s.WeightSharing), byte(s.Damping), byte(s.Solver)})
	e.U64(uint64(s.Samples))
	e.U64(uint64(len(k.blocks)))
	for _, b := range k.blocks {
		e.Bytes([]byte{byte(b.structure)})
		e.U64(uint64(b.size()))
		e.U64(uint64(b.p))
		e.U64(uint64(b.q))
	}
}

// checkShape reads what encodeShape wrote and compares it with k.
func (k *KFAC) checkShape(d *binstate.Decoder) error {
	s := &k.set
	set := d.Bytes(4)
	want := []byte{byte(s.Factors), byte(s.WeightSharing), byte(s.Damping), byte(s.Solver)}
	if d.Err() == nil && !bytes.Equal(set, want) {
		return fmt.Errorf("the state is of a K-FAC with factors, weight sharing, damping and solver %v, this one has %v", set, want)
	}
	if n := d.U64(); d.Err() == nil && n != uint64(s.Samples) {
		return fmt.Errorf("the state's K-FAC draws %d labels per input, this one %d", n, s.Samples)
	}
	if n := d.U64(); d.Err() == nil && n != uint64(len(k.blocks)) {
		return fmt.Errorf("the state has %d blocks, this K-FAC %d", n, len(k.blocks))
	}
	for i, b := range k.blocks {
		st := d.Byte()
		size, p, q := d.U64(), d.U64(), d.U64()
		if d.Err() != nil {
			return nil
		}
		if nn.Structure(st) != b.structure || size != uint64(b.size()) || p != uint64(b.p) || q != uint64(b.q) {
			return fmt.Errorf("block %d of the state is a %d-parameter block of shape %d×%d, this K-FAC's is a %d-parameter one of shape %d×%d",
				i, size, p, q, b.size(), b.p, b.q)
		}
	}
	return nil
}

// kronState is a Kronecker block's saved state.
type kronState struct {
	p, q       int
	g, a       []float64 // the factors' storage, both triangles
	lowerStale bool
	eig        *kronEig
	cholOK     bool
	cholλ      float64
	gInv, aInv []float64
}

// encode writes the block's state; it holds k.mu meanwhile.
func (k *Kron) encode(e *binstate.Encoder) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e.Floats(k.g.RawSymmetric().Data)
	e.Floats(k.a.RawSymmetric().Data)
	e.Bool(k.lowerStale)
	e.Bool(k.eig != nil)
	if k.eig != nil {
		encodeDense(e, k.eig.qg)
		encodeDense(e, k.eig.qa)
		e.Floats(k.eig.lg)
		e.Floats(k.eig.la)
	}
	e.Bool(k.cholOK)
	if k.cholOK {
		e.Float(k.cholλ)
		e.Floats(k.gInv.RawMatrix().Data)
		e.Floats(k.aInv.RawMatrix().Data)
	}
}

func decodeKron(d *binstate.Decoder, p, q int) *kronState {
	s := &kronState{p: p, q: q, g: make([]float64, p*p), a: make([]float64, q*q)}
	d.Floats(s.g)
	d.Floats(s.a)
	s.lowerStale = d.Bool()
	if d.Bool() {
		s.eig = &kronEig{qg: decodeDense(d, p), qa: decodeDense(d, q), lg: make([]float64, p), la: make([]float64, q)}
		d.Floats(s.eig.lg)
		d.Floats(s.eig.la)
	}
	if s.cholOK = d.Bool(); s.cholOK {
		s.cholλ = d.Float()
		s.gInv, s.aInv = make([]float64, p*p), make([]float64, q*q)
		d.Floats(s.gInv)
		d.Floats(s.aInv)
	}
	return s
}

func (s *kronState) check() error {
	if err := checkStatistic("factor G", s.g, s.p, s.p+1); err != nil {
		return err
	}
	if err := checkStatistic("factor A", s.a, s.q, s.q+1); err != nil {
		return err
	}
	if e := s.eig; e != nil {
		for _, v := range [][]float64{e.qg.RawMatrix().Data, e.qa.RawMatrix().Data, e.lg, e.la} {
			if i := firstNonFiniteValue(v); i >= 0 {
				return fmt.Errorf("eigendecomposition value %d is %v", i, v[i])
			}
		}
	}
	if s.cholOK {
		if !(s.cholλ >= 0) || math.IsInf(s.cholλ, 0) {
			return fmt.Errorf("the damping of the factorisation is %v", s.cholλ)
		}
		for _, v := range [][]float64{s.gInv, s.aInv} {
			if i := firstNonFiniteValue(v); i >= 0 {
				return fmt.Errorf("inverse factor value %d is %v", i, v[i])
			}
		}
	}
	return nil
}

// restore sets the block's state; it holds k.mu meanwhile.
func (k *Kron) restore(s *kronState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	copy(k.g.RawSymmetric().Data, s.g)
	copy(k.a.RawSymmetric().Data, s.a)
	k.lowerStale = s.lowerStale
	k.eig = s.eig
	k.cholOK, k.cholλ = s.cholOK, s.cholλ
	if s.cholOK {
		if k.gInv == nil {
			k.gInv, k.aInv = mat.NewDense(k.p, k.p, nil), mat.NewDense(k.q, k.q, nil)
			k.cholWork = make([]float64, max(k.p*k.p, k.q*k.q))
		}
		copy(k.gInv.RawMatrix().Data, s.gInv)
		copy(k.aInv.RawMatrix().Data, s.aInv)
	}
}

// symState is a dense block's saved state: the matrix and the Cholesky
// factor U of M + λI it last factorised.
type symState struct {
	n      int
	m      []float64
	cholOK bool
	cholλ  float64
	u      []float64
}

// encode writes the block's state; it holds s.mu meanwhile.
func (s *SymMatrix) encode(e *binstate.Encoder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.Dim()
	e.Floats(denseSymData(s.m))
	e.Bool(s.cholOK)
	if s.cholOK {
		e.Float(s.cholλ)
		var u mat.TriDense
		s.chol.UTo(&u)
		raw := u.RawTriangular()
		for i := 0; i < n; i++ {
			e.Floats(raw.Data[i*raw.Stride+i : i*raw.Stride+n])
		}
	}
}

// denseSymData returns m's storage when it is contiguous, or a copy.
func denseSymData(m *mat.SymDense) []float64 {
	raw := m.RawSymmetric()
	if raw.Stride == raw.N {
		return raw.Data[:raw.N*raw.N]
	}
	out := make([]float64, raw.N*raw.N)
	for i := 0; i < raw.N; i++ {
		copy(out[i*raw.N:(i+1)*raw.N], raw.Data[i*raw.Stride:i*raw.Stride+raw.N])
	}
	return out
}

func decodeSym(d *binstate.Decoder, n int) *symState {
	s := &symState{n: n, m: make([]float64, n*n)}
	d.Floats(s.m)
	if s.cholOK = d.Bool(); s.cholOK {
		s.cholλ = d.Float()
		s.u = make([]float64, n*n)
		for i := 0; i < n; i++ {
			d.Floats(s.u[i*n+i : i*n+n])
		}
	}
	return s
}

func (s *symState) check() error {
	if err := checkStatistic("dense block", s.m, s.n, s.n+1); err != nil {
		return err
	}
	if s.cholOK {
		if !(s.cholλ >= 0) || math.IsInf(s.cholλ, 0) {
			return fmt.Errorf("the damping of the factorisation is %v", s.cholλ)
		}
		if i := firstNonFiniteValue(s.u); i >= 0 {
			return fmt.Errorf("Cholesky factor value %d is %v", i, s.u[i])
		}
		for i := 0; i < s.n; i++ {
			if !(s.u[i*s.n+i] > 0) {
				return fmt.Errorf("Cholesky factor diagonal entry %d is %v, want a positive value", i, s.u[i*s.n+i])
			}
		}
	}
	return nil
}

// restore sets the block's state; it holds s.mu meanwhile.
func (s *SymMatrix) restore(st *symState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := s.m.RawSymmetric()
	for i := 0; i < st.n; i++ {
		copy(raw.Data[i*raw.Stride:i*raw.Stride+st.n], st.m[i*st.n:(i+1)*st.n])
	}
	s.cholOK, s.cholλ = st.cholOK, st.cholλ
	if st.cholOK {
		s.chol.SetFromU(mat.NewTriDense(st.n, mat.Upper, st.u))
	}
}

// encodeDense writes an n×n matrix's values row by row.
func encodeDense(e *binstate.Encoder, m *mat.Dense) {
	raw := m.RawMatrix()
	for i := 0; i < raw.Rows; i++ {
		e.Floats(raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols])
	}
}

func decodeDense(d *binstate.Decoder, n int) *mat.Dense {
	v := make([]float64, n*n)
	d.Floats(v)
	return mat.NewDense(n, n, v)
}

// checkStatistic checks the values of a statistic, an n×n matrix's storage
// (stride n+1 walks its diagonal) or a diagonal (stride 1): finite, with
// diagonal entries ≥ 0, as means of squares are.
func checkStatistic(what string, v []float64, n, stride int) error {
	if i := firstNonFiniteValue(v); i >= 0 {
		return fmt.Errorf("%s value %d is %v", what, i, v[i])
	}
	for i := 0; i < n; i++ {
		if x := v[i*stride]; x < 0 {
			return fmt.Errorf("%s diagonal entry %d is %v, want a value ≥ 0 (a mean of squares)", what, i, x)
		}
	}
	return nil
}

func firstNonFiniteValue(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}
