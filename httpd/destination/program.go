package destination

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"time"
)

// programV1 is the first byte of every compiled program. A program of a
// newer version is refused by Decompile and matched as no options by
// Match, never misread.
const programV1 = 1

// A Program is a link's options compiled for matching:
//
//	u8 version (1)
//	uvarint rules; for each rule:
//	  uvarint length of the rest of the rule (so a miss skips it)
//	  u8 device mask, uvarint OS mask (0 = any)
//	  uvarint n, n × str   languages (lower case)
//	  uvarint n, n × 2 B   countries (upper case)
//	  uvarint n, n × (str key, uvarint m, m × str value)   query, keys sorted
//	  varint from, varint until (Unix ms, 0 = open)
//	  str url
//	uvarint variants; for each: u8 weight, str url
//
// where str is a uvarint length and the bytes. The encoding is replicated
// inside link records, so it is pinned by golden tests: change it only by
// adding a version.
type Program []byte

// Compile encodes normalised options (see Normalize). Empty options
// compile to nil: a link without options takes the plain redirect path.
func Compile(o Options) Program {
	if len(o.Rules) == 0 && len(o.Variants) == 0 {
		return nil
	}
	b := []byte{programV1}
	b = binary.AppendUvarint(b, uint64(len(o.Rules)))
	for _, r := range o.Rules {
		rule := compileRule(r)
		b = binary.AppendUvarint(b, uint64(len(rule)))
		b = append(b, rule...)
	}
	b = binary.AppendUvarint(b, uint64(len(o.Variants)))
	for _, v := range o.Variants {
		b = append(b, byte(v.Weight))
		b = appendStr(b, v.URL)
	}
	return b
}

func compileRule(r Rule) []byte {
	c := r.If
	var b []byte
	{
		b = append(b, mask8(c.Device, devices))
		b = binary.AppendUvarint(b, uint64(mask16(c.OS, systems)))
		b = appendStrs(b, c.Language)
		b = binary.AppendUvarint(b, uint64(len(c.Country)))
		for _, cc := range c.Country {
			b = append(b, cc[0], cc[1])
		}
		keys := slices.Sorted(maps.Keys(c.Query))
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			b = appendStr(b, k)
			b = appendStrs(b, c.Query[k])
		}
		from, _ := parseTime(c.From)
		until, _ := parseTime(c.Until)
		b = binary.AppendVarint(b, from)
		b = binary.AppendVarint(b, until)
		b = appendStr(b, r.URL)
	}
	return b
}

func mask8(vals, names []string) uint8 { return uint8(mask16(vals, names)) }

func mask16(vals, names []string) uint16 {
	var m uint16
	for _, v := range vals {
		if i := slices.Index(names, v); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrs(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

// ErrProgram means a program is corrupt or of a newer version.
var ErrProgram = errors.New("destination: corrupt or unknown link options")

// Decompile turns a program back into the options it was compiled from,
// for the API and the console.
func Decompile(p Program) (Options, error) {
	var o Options
	if len(p) == 0 {
		return o, nil
	}
	r := reader{b: p}
	if r.u8() != programV1 {
		return o, ErrProgram
	}
	for n := r.count(); n > 0 && r.ok(); n-- {
		rule := reader{b: r.str()}
		o.Rules = append(o.Rules, rule.rule())
		if len(rule.b) != 0 || rule.bad {
			r.fail()
		}
	}
	for n := r.count(); n > 0 && r.ok(); n-- {
		w := int(r.u8())
		o.Variants = append(o.Variants, Variant{Weight: w, URL: string(r.str())})
	}
	if !r.ok() || len(r.b) != 0 {
		return Options{}, ErrProgram
	}
	return o, nil
}

// rule decodes one rule's body.
func (r *reader) rule() Rule {
	{
		var c Cond
		c.Device = unmask(uint16(r.u8()), devices)
		c.OS = unmask(uint16(r.uv()), systems)
		c.Language = r.strs()
		for m := r.count(); m > 0 && r.ok(); m-- {
			c.Country = append(c.Country, string(r.bytes(2)))
		}
		for m := r.count(); m > 0 && r.ok(); m-- {
			if c.Query == nil {
				c.Query = map[string][]string{}
			}
			k := string(r.str())
			c.Query[k] = r.strs()
		}
		c.From, c.Until = formatTime(r.v()), formatTime(r.v())
		return Rule{If: c, URL: string(r.str())}
	}
}

func unmask(m uint16, names []string) []string {
	var out []string
	for i, n := range names {
		if m&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func formatTime(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// reader decodes a program without allocating; after the first error every
// read returns zero values and ok reports false.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) ok() bool { return !r.bad }

func (r *reader) fail() { r.bad, r.b = true, nil }

func (r *reader) u8() byte {
	if b := r.bytes(1); len(b) == 1 {
		return b[0]
	}
	return 0
}

func (r *reader) uv() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// v reads a varint: binary.AppendVarint's zig-zag over a uvarint.
func (r *reader) v() int64 {
	u := r.uv()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a list length, refusing one longer than the bytes left (so
// a corrupt length cannot make a loop spin).
func (r *reader) count() int {
	n := r.uv()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) str() []byte { return r.bytes(r.count()) }

func (r *reader) strs() []string {
	var out []string
	for n := r.count(); n > 0 && r.ok(); n-- {
		out = append(out, string(r.str()))
	}
	return out
}
