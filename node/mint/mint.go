// Package mint turns sequential ids from replicated id ranges into short,
// non-enumerable codes: a keyed bijective permutation of the code space
// [0, 62^7) — a Feistel network with cycle walking — followed by fixed-width
// base62 encoding to 7 characters.
//
// Because the permutation is a bijection, distinct ids always give distinct
// codes: minting needs no collision check and no coordination beyond the id
// ranges. Because it is keyed, consecutive ids give unrelated codes, so
// codes cannot be enumerated. The package holds no state besides the key and
// never does I/O.
package mint

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// CodeLen is the length of a minted code.
const CodeLen = 7

// Space is the number of distinct codes: 62^CodeLen.
const Space uint64 = 3521614606208

// KeySize is the size of a permutation key in bytes.
const KeySize = 32

const (
	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// halfBits is half the Feistel domain: 2^42 > Space, and a balanced
	// 21/21 split keeps every round a full permutation of its half.
	halfBits = 21
	halfMask = 1<<halfBits - 1
	// rounds: Luby–Rackoff needs 4 for a strong PRP; 8 leaves a wide margin
	// at a cost of a few nanoseconds.
	rounds = 8
)

// Errors.
var (
	// ErrKeySize means the key is not KeySize bytes.
	ErrKeySize = errors.New("mint: key must be 32 bytes")
	// ErrIDOutOfRange means an id or permuted value is not below Space.
	ErrIDOutOfRange = errors.New("mint: id out of range")
	// ErrBadCode means a string is not a CodeLen-character base62 code.
	ErrBadCode = errors.New("mint: not a valid code")
)

// Permutation is a keyed bijection on [0, Space). It is immutable after New
// and safe for concurrent use.
type Permutation struct {
	keys [rounds]uint64
}

// New returns the permutation for key.
func New(key []byte) (*Permutation, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	p := &Permutation{}
	for i := range p.keys {
		h := sha256.Sum256(append([]byte{byte(i)}, key...))
		p.keys[i] = binary.LittleEndian.Uint64(h[:8])
	}
	return p, nil
}

// round is the keyed round function: a SplitMix64-style finaliser of the
// half block mixed with the round key, truncated to halfBits.
func round(x, k uint64) uint64 {
	z := x ^ k
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return z & halfMask
}

// feistel permutes [0, 2^42).
func (p *Permutation) feistel(x uint64) uint64 {
	l, r := x>>halfBits, x&halfMask
	for _, k := range p.keys {
		l, r = r, l^round(r, k)
	}
	return l<<halfBits | r
}

func (p *Permutation) unfeistel(x uint64) uint64 {
	l, r := x>>halfBits, x&halfMask
	for i := rounds - 1; i >= 0; i-- {
		l, r = r^round(l, p.keys[i]), l
	}
	return l<<halfBits | r
}

// Permute maps id to its scrambled value. Cycle walking — applying the
// Feistel permutation again while the result lies outside [0, Space) —
// restricts a permutation of the larger domain to a permutation of Space:
// following the cycle through id, the first value that lands back inside
// is unique to id. Space/2^42 ≈ 0.8, so the walk is about 1.25 steps.
func (p *Permutation) Permute(id uint64) (uint64, error) {
	if id >= Space {
		return 0, ErrIDOutOfRange
	}
	x := p.feistel(id)
	for x >= Space {
		x = p.feistel(x)
	}
	return x, nil
}

// Invert is the inverse of Permute.
func (p *Permutation) Invert(x uint64) (uint64, error) {
	if x >= Space {
		return 0, ErrIDOutOfRange
	}
	id := p.unfeistel(x)
	for id >= Space {
		id = p.unfeistel(id)
	}
	return id, nil
}

// Code returns the code for id.
func (p *Permutation) Code(id uint64) (string, error) {
	var buf [CodeLen]byte
	b, err := p.AppendCode(buf[:0], id)
	return string(b), err
}

// AppendCode appends the code for id to dst; it does not allocate when dst
// has room.
func (p *Permutation) AppendCode(dst []byte, id uint64) ([]byte, error) {
	x, err := p.Permute(id)
	if err != nil {
		return dst, err
	}
	return AppendEncode(dst, x), nil
}

// Encode writes x (< Space) as exactly CodeLen base62 characters.
func Encode(x uint64) string {
	var buf [CodeLen]byte
	return string(AppendEncode(buf[:0], x))
}

// AppendEncode appends the CodeLen-character encoding of x to dst.
func AppendEncode(dst []byte, x uint64) []byte {
	var buf [CodeLen]byte
	for i := CodeLen - 1; i >= 0; i-- {
		buf[i] = alphabet[x%62]
		x /= 62
	}
	return append(dst, buf[:]...)
}

// Decode parses a CodeLen-character base62 code.
func Decode(s string) (uint64, error) {
	if len(s) != CodeLen {
		return 0, ErrBadCode
	}
	var x uint64
	for i := 0; i < len(s); i++ {
		d := digit(s[i])
		if d < 0 {
			return 0, ErrBadCode
		}
		x = x*62 + uint64(d)
	}
	return x, nil
}

func digit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}
