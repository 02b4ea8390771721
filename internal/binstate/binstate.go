// Package binstate writes and reads the binary saved states of the
// optimizers: little-endian integers and float64 bits, the exact values,
// with a CRC-32 (IEEE) of every byte before it at the end. The decoder
// reads exactly the bytes the encoder wrote, never ahead, so a state may be
// followed by other data in the same stream. Both keep the first error and
// do nothing after it, so a caller checks once, at the end.
package binstate

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// ErrChecksum is the error of a state whose bytes do not match their
// checksum.
var ErrChecksum = errors.New("checksum mismatch")

// Encoder writes values and keeps a CRC-32 of them.
type Encoder struct {
	w   *bufio.Writer
	crc hash.Hash32
	err error
	buf [4096]byte
}

// NewEncoder returns an encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: bufio.NewWriter(w), crc: crc32.NewIEEE()}
}

// Header writes the start of a state: its magic bytes, the format version
// and its kind (String).
func (e *Encoder) Header(magic string, version uint32, kind string) {
	e.Bytes([]byte(magic))
	e.U32(version)
	e.String(kind)
}

// Bytes writes p.
func (e *Encoder) Bytes(p []byte) {
	if e.err != nil {
		return
	}
	e.crc.Write(p)
	_, e.err = e.w.Write(p)
}

// String writes a length byte and s, which must be shorter than 256 bytes.
func (e *Encoder) String(s string) {
	if len(s) > math.MaxUint8 {
		panic("binstate: string longer than 255 bytes")
	}
	e.Bytes([]byte{byte(len(s))})
	e.Bytes([]byte(s))
}

// U32 writes v.
func (e *Encoder) U32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.Bytes(e.buf[:4])
}

// U64 writes v.
func (e *Encoder) U64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.Bytes(e.buf[:8])
}

// Bool writes v as one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	e.Bytes([]byte{b})
}

// Float writes the bits of v.
func (e *Encoder) Float(v float64) { e.U64(math.Float64bits(v)) }

// Floats writes the bits of every value of v, without its length.
func (e *Encoder) Floats(v []float64) {
	for len(v) > 0 {
		k := min(len(v), len(e.buf)/8)
		for i, f := range v[:k] {
			binary.LittleEndian.PutUint64(e.buf[8*i:], math.Float64bits(f))
		}
		e.Bytes(e.buf[:8*k])
		v = v[k:]
	}
}

// Blob writes the length of p as a uint64, then p.
func (e *Encoder) Blob(p []byte) {
	e.U64(uint64(len(p)))
	e.Bytes(p)
}

// Close writes the checksum of everything written, flushes, and returns
// the first error.
func (e *Encoder) Close() error {
	e.U32(e.crc.Sum32())
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

// Decoder reads what Encoder writes, exactly and without reading ahead.
type Decoder struct {
	r   io.Reader
	crc hash.Hash32
	err error
	buf [4096]byte
}

// NewDecoder returns a decoder that reads from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, crc: crc32.NewIEEE()}
}

// Err returns the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// Fail records err as the decoder's error unless it has one already, so
// that a caller stops at the first thing wrong.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Bytes returns the next k ≤ 4096 bytes, valid until the next call; after
// an error, zeros.
func (d *Decoder) Bytes(k int) []byte {
	if d.err != nil {
		clear(d.buf[:k])
		return d.buf[:k:k]
	}
	p := d.buf[:k]
	if _, err := io.ReadFull(d.r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
		clear(p)
		return p
	}
	d.crc.Write(p)
	return p
}

// Header reads what Encoder.Header wrote and returns an error unless it
// is magic, version and kind; what names the format for the error ("a
// firstorder state"). A read error is left for Close.
func (d *Decoder) Header(magic string, version uint32, kind, what string) error {
	_, err := d.HeaderSince(magic, version, version, kind, what)
	return err
}

// HeaderSince is Header for a reader that also reads the older versions
// oldest..version; it returns the version read.
func (d *Decoder) HeaderSince(magic string, oldest, version uint32, kind, what string) (uint32, error) {
	if m := d.Bytes(len(magic)); d.err == nil && string(m) != magic {
		return 0, fmt.Errorf("not %s", what)
	}
	v := d.U32()
	if d.err == nil && (v < oldest || v > version) {
		if oldest == version {
			return 0, fmt.Errorf("format version %d, want %d", v, version)
		}
		return 0, fmt.Errorf("format version %d, want %d to %d", v, oldest, version)
	}
	if k := d.String(); d.err == nil && k != kind {
		return 0, fmt.Errorf("state is of %q, want %q", k, kind)
	}
	return v, nil
}

// Byte reads one byte.
func (d *Decoder) Byte() byte { return d.Bytes(1)[0] }

// String reads what Encoder.String wrote.
func (d *Decoder) String() string { return string(d.Bytes(int(d.Byte()))) }

// U32 reads a uint32.
func (d *Decoder) U32() uint32 { return binary.LittleEndian.Uint32(d.Bytes(4)) }

// U64 reads a uint64.
func (d *Decoder) U64() uint64 { return binary.LittleEndian.Uint64(d.Bytes(8)) }

// Bool reads a byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	switch d.Byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.Fail(errors.New("a flag is neither 0 nor 1"))
	return false
}

// Float reads a float64.
func (d *Decoder) Float() float64 { return math.Float64frombits(d.U64()) }

// Floats fills dst.
func (d *Decoder) Floats(dst []float64) {
	for len(dst) > 0 {
		k := min(len(dst), len(d.buf)/8)
		p := d.Bytes(8 * k)
		for i := range k {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		}
		dst = dst[k:]
	}
}

// Blob reads what Encoder.Blob wrote, refusing a length above max.
func (d *Decoder) Blob(max int) []byte {
	n := d.U64()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) {
		d.Fail(errors.New("a length field is out of range"))
		return nil
	}
	p := make([]byte, 0, min(int(n), 1<<20)) // grown as read: a corrupt length allocates nothing
	for uint64(len(p)) < n && d.err == nil {
		k := int(min(n-uint64(len(p)), uint64(len(d.buf))))
		p = append(p, d.Bytes(k)...)
	}
	return p
}

// Close reads the checksum and returns the first error: one of reading,
// one a caller recorded with Fail, or ErrChecksum.
func (d *Decoder) Close() error {
	sum := d.crc.Sum32()
	if got := d.U32(); d.err == nil && got != sum {
		d.err = ErrChecksum
	}
	return d.err
}
