package secondorder

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/curvkit/curvkit/internal/binstate"
	"github.com/curvkit/curvkit/internal/vec"
)

// The saved-state format of the network optimizers, which
// docs/secondorder.md documents.
const (
	stateMagic   = "CKSOSTAT"
	stateVersion = 1
)

// The kinds of saved state.
const (
	kfacKind = "K-FAC"
	hfKind   = "Hessian-free"
	ngKind   = "natural gradient"
)

// saveState writes the header of a state of kind for n parameters, then
// body, then the checksum.
func saveState(w io.Writer, kind string, n int, body func(e *binstate.Encoder)) error {
	if w == nil {
		return fmt.Errorf("secondorder: saving %s state: nil writer", kind)
	}
	e := binstate.NewEncoder(w)
	e.Header(stateMagic, stateVersion, kind)
	e.U64(uint64(n))
	body(e)
	if err := e.Close(); err != nil {
		return fmt.Errorf("secondorder: saving %s state: %w", kind, err)
	}
	return nil
}

// loadState reads a state of kind for n parameters: the header, then body
// (which reads its values and may record an error with d.Fail), then the
// checksum; only when all of it is read and sound does it call apply,
// which makes the changes, so that nothing changes on an error.
func loadState(r io.Reader, kind string, n int, body func(d *binstate.Decoder), apply func() error) error {
	err := func() error {
		if r == nil {
			return errors.New("nil reader")
		}
		d := binstate.NewDecoder(r)
		if err := d.Header(stateMagic, stateVersion, kind, "a secondorder state"); err != nil {
			return err
		}
		if m := d.U64(); d.Err() == nil && m != uint64(n) {
			return fmt.Errorf("state has %d parameters, want %d", m, n)
		}
		body(d)
		if err := d.Close(); err != nil {
			return err
		}
		return apply()
	}()
	if err != nil {
		return fmt.Errorf("secondorder: loading %s state: %w", kind, err)
	}
	return nil
}

// readCount reads a step count, refusing one that no run reaches.
func readCount(d *binstate.Decoder, what string) int {
	v := d.U64()
	if d.Err() == nil && v > math.MaxInt32 {
		d.Fail(fmt.Errorf("%s %d is out of range", what, v))
	}
	return int(v)
}

// readFinite fills dst, refusing NaN and infinities.
func readFinite(d *binstate.Decoder, what string, dst []float64) {
	d.Floats(dst)
	if d.Err() == nil {
		if i := vec.FirstNonFinite(dst); i >= 0 {
			d.Fail(fmt.Errorf("%s has %v at index %d", what, dst[i], i))
		}
	}
}

// readDamping reads a damping λ and refuses one outside [lo, hi], the
// bounds of the optimizer it is loaded into.
func readDamping(d *binstate.Decoder, lo, hi float64) float64 {
	v := d.Float()
	if d.Err() == nil && !(v >= lo && v <= hi) {
		d.Fail(fmt.Errorf("damping λ = %v is outside [%v, %v], the bounds of these settings", v, lo, hi))
	}
	return v
}

// Save writes the optimizer's state to w exactly, its statistics,
// factorisation and own generator included, so that Load into a K-FAC for
// the same model and settings continues bit for bit.
func (k *KFAC) Save(w io.Writer) error {
	curv, err := k.curv.MarshalBinary()
	if err != nil {
		return fmt.Errorf("secondorder: saving %s state: %w", kfacKind, err)
	}
	return saveState(w, kfacKind, len(k.prev), func(e *binstate.Encoder) {
		e.U64(uint64(k.step))
		e.U64(uint64(k.updates))
		e.Float(k.lambda)
		e.Bool(k.factored)
		e.Float(k.gamma)
		e.Floats(k.prev)
		e.Blob(curv)
	})
}

// Load reads exactly the bytes Save wrote. A corrupt state, one of another
// optimizer or shape, or values no run gives return an error and change
// nothing.
func (k *KFAC) Load(r io.Reader) error {
	var step, updates int
	var lambda, gamma float64
	var factored bool
	prev := make([]float64, len(k.prev))
	var curv []byte
	body := func(d *binstate.Decoder) {
		step = readCount(d, "step count")
		updates = readCount(d, "update count")
		lambda = readDamping(d, k.set.MinDamping, k.set.MaxDamping)
		factored = d.Bool()
		gamma = d.Float()
		readFinite(d, "δ_prev", prev)
		// The statistics and their factorisations: a few times the floats
		// the K-FAC holds, and a header per block.
		curv = d.Blob(32*k.curv.Floats() + 64*k.curv.NumBlocks() + 4096)
		if d.Err() != nil {
			return
		}
		switch {
		case updates > step:
			d.Fail(fmt.Errorf("%d statistics updates in %d steps", updates, step))
		case !(gamma >= 0) || math.IsInf(gamma, 0):
			d.Fail(fmt.Errorf("γ = %v, want a finite value ≥ 0", gamma))
		case factored && updates == 0:
			d.Fail(errors.New("factorised without statistics"))
		}
	}
	return loadState(r, kfacKind, len(k.prev), body, func() error {
		if err := k.curv.UnmarshalBinary(curv); err != nil {
			return err
		}
		k.step, k.updates = step, updates
		k.lambda, k.factored, k.gamma = lambda, factored, gamma
		copy(k.prev, prev)
		k.subRows = 0 // the step count may go back: the cached view is stale
		return nil
	})
}

// Save writes the optimizer's state to w exactly, so that Load into a
// Hessian-free optimizer for the same model and settings continues bit for
// bit (a Preconditioner's own state excepted).
func (h *HessianFree) Save(w io.Writer) error {
	return saveState(w, hfKind, len(h.x), func(e *binstate.Encoder) {
		e.U64(uint64(h.step))
		e.Float(h.lambda)
		e.Floats(h.x)
	})
}

// Load reads exactly the bytes Save wrote. A corrupt state, one of another
// optimizer or size, or values no run gives return an error and change
// nothing.
func (h *HessianFree) Load(r io.Reader) error {
	var step int
	var lambda float64
	x := make([]float64, len(h.x))
	body := func(d *binstate.Decoder) {
		step = readCount(d, "step count")
		lambda = readDamping(d, h.set.MinDamping, h.set.MaxDamping)
		readFinite(d, "warm start", x)
	}
	return loadState(r, hfKind, len(h.x), body, func() error {
		h.step, h.lambda = step, lambda
		copy(h.x, x)
		return nil
	})
}

// Save writes the optimizer's state to w exactly, but for the curvature M̃,
// which the first step after Load recomputes: the resumed run continues bit
// for bit when a refresh was due (always with UpdateInterval 1).
func (ng *NaturalGradient) Save(w io.Writer) error {
	return saveState(w, ngKind, len(ng.vel), func(e *binstate.Encoder) {
		e.U64(uint64(ng.step))
		e.U64(uint64(ng.since))
		e.Bool(ng.cur != nil || ng.resumed)
		e.Floats(ng.vel)
	})
}

// Load reads exactly the bytes Save wrote and drops the curvature in use.
// A corrupt state, one of another optimizer or size, or values no run gives
// return an error and change nothing.
func (ng *NaturalGradient) Load(r io.Reader) error {
	var step, since int
	var had bool
	vel := make([]float64, len(ng.vel))
	body := func(d *binstate.Decoder) {
		step = readCount(d, "step count")
		since = readCount(d, "curvature age")
		had = d.Bool()
		readFinite(d, "velocity", vel)
		if d.Err() == nil && since > step {
			d.Fail(fmt.Errorf("a curvature %d steps old after %d steps", since, step))
		}
	}
	return loadState(r, ngKind, len(ng.vel), body, func() error {
		ng.step, ng.since = step, since
		ng.cur, ng.resumed = nil, had
		copy(ng.vel, vel)
		return nil
	})
}
