package store

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt is returned when a stored record cannot be decoded. It means the
// data on disk is damaged or was written by an incompatible version.
var ErrCorrupt = errors.New("store: corrupt record")

// ErrNewerRecord is returned for a record (or snapshot stream) whose version
// is newer than this binary reads: a newer linkd wrote it. The fsm halts on
// it rather than treating it as corruption.
var ErrNewerRecord = errors.New("store: record written by a newer linkd")

// recordV1 is the first record version. A decoder accepts any version at or
// above the one that introduced a field and treats missing trailing fields as
// zero, so later versions may append fields without rewriting old records.
const recordV1 = 1

// encoder appends primitive values to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)     { e.b = append(e.b, v) }
func (e *encoder) uv(v uint64)    { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) iv(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(v []byte) { e.uv(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) str(v string)   { e.uv(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}
func (e *encoder) strs(v []string) {
	e.uv(uint64(len(v)))
	for _, s := range v {
		e.str(s)
	}
}

// decoder reads what encoder wrote. The first error sticks; reading past the
// end of a record yields zero values and is not an error, which is what lets
// newer versions append fields.
type decoder struct {
	b   []byte
	err error
	// exact: reading past the end is an error, for a layout that never
	// grows by appended fields (the packed click deltas).
	exact bool
}

func (d *decoder) fail() { d.err = ErrCorrupt; d.b = nil }

// end reports whether the record is used up, failing in exact mode.
func (d *decoder) end() bool {
	if len(d.b) > 0 {
		return false
	}
	if d.exact && d.err == nil {
		d.fail()
	}
	return true
}

func (d *decoder) u8() uint8 {
	if d.end() {
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uv() uint64 {
	if d.end() {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) iv() int64 {
	if d.end() {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uv()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.raw()) }
func (d *decoder) bytes() []byte {
	r := d.raw()
	if r == nil {
		return nil
	}
	return append([]byte(nil), r...)
}
func (d *decoder) bool() bool { return d.u8() != 0 }

func (d *decoder) strs() []string {
	n := d.uv()
	if n > uint64(len(d.b)) { // each string takes at least one byte
		d.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.str()
	}
	return v
}

// version reads the leading version byte and fails on records newer than
// this binary understands or older than the first version.
func (d *decoder) version(newest uint8) uint8 {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.u8()
	switch {
	case v > newest:
		d.err, d.b = fmt.Errorf("%w: version %d, this binary reads up to %d", ErrNewerRecord, v, newest), nil
	case v < recordV1:
		d.fail()
	}
	return v
}
