package mint

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

var testKey = bytes.Repeat([]byte{0x5a}, KeySize)

func mustNew(t testing.TB, key []byte) *Permutation {
	t.Helper()
	p, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// One million consecutive ids give one million distinct 7-character codes
// with no visible sequence: consecutive codes are in random order, differ in
// almost every position, and every position uses the alphabet uniformly.
func TestMillionConsecutiveIDsDistinct(t *testing.T) {
	const n = 1_000_000
	p := mustNew(t, testKey)
	seen := make(map[uint64]struct{}, n)
	var prev []byte
	var ascending, diffPositions int
	var freq [CodeLen][62]int
	buf := make([]byte, 0, CodeLen)
	for id := uint64(0); id < n; id++ {
		code, err := p.AppendCode(buf[:0], id)
		if err != nil {
			t.Fatal(err)
		}
		x, err := Decode(string(code))
		if err != nil || len(code) != CodeLen {
			t.Fatalf("id %d gave invalid code %q", id, code)
		}
		if _, dup := seen[x]; dup {
			t.Fatalf("id %d repeats code %q", id, code)
		}
		seen[x] = struct{}{}
		for i, c := range code {
			freq[i][digit(c)]++
			if prev != nil && prev[i] != c {
				diffPositions++
			}
		}
		if prev != nil && bytes.Compare(code, prev) > 0 {
			ascending++
		}
		prev = append(prev[:0], code...)
	}
	if frac := float64(ascending) / (n - 1); frac < 0.45 || frac > 0.55 {
		t.Errorf("%.3f of consecutive codes ascend; a visible order", frac)
	}
	if mean := float64(diffPositions) / (n - 1); mean < 5 {
		t.Errorf("consecutive codes differ in %.2f of 7 positions on average", mean)
	}
	// The first character covers 62^7 / 62 codes each, so every position
	// should be close to uniform. chi-square with 61 degrees of freedom has
	// mean 61 and standard deviation 11; 200 is far outside chance.
	for pos := range freq {
		var chi float64
		exp := float64(n) / 62
		for _, c := range freq[pos] {
			chi += math.Pow(float64(c)-exp, 2) / exp
		}
		if chi > 200 {
			t.Errorf("position %d: chi-square %.0f, not uniform", pos, chi)
		}
	}
}

func TestRoundTrips(t *testing.T) {
	p := mustNew(t, testKey)
	for _, x := range []uint64{0, 1, 2, 61, 62, 1 << 20, Space / 2, Space - 2, Space - 1} {
		y, err := p.Permute(x)
		if err != nil || y >= Space {
			t.Fatalf("Permute(%d) = %d, %v", x, y, err)
		}
		if back, err := p.Invert(y); err != nil || back != x {
			t.Fatalf("Invert(Permute(%d)) = %d, %v", x, back, err)
		}
		if d, err := Decode(Encode(x)); err != nil || d != x {
			t.Fatalf("Decode(Encode(%d)) = %d, %v", x, d, err)
		}
	}
	if Encode(0) != "0000000" || Encode(Space-1) != "zzzzzzz" {
		t.Fatalf("encoding edges: %q %q", Encode(0), Encode(Space-1))
	}
}

func TestKeysDiffer(t *testing.T) {
	a := mustNew(t, testKey)
	b := mustNew(t, bytes.Repeat([]byte{0x5b}, KeySize))
	same := 0
	for id := uint64(0); id < 1000; id++ {
		ca, _ := a.Code(id)
		cb, _ := b.Code(id)
		if ca == cb {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("%d of 1000 ids give the same code under different keys", same)
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(make([]byte, 31)); !errors.Is(err, ErrKeySize) {
		t.Fatalf("short key: %v", err)
	}
	p := mustNew(t, testKey)
	if _, err := p.Permute(Space); !errors.Is(err, ErrIDOutOfRange) {
		t.Fatalf("id = Space: %v", err)
	}
	if _, err := p.Invert(Space); !errors.Is(err, ErrIDOutOfRange) {
		t.Fatalf("Invert(Space): %v", err)
	}
	if _, err := p.Code(math.MaxUint64); !errors.Is(err, ErrIDOutOfRange) {
		t.Fatalf("Code(max): %v", err)
	}
	for _, s := range []string{"", "abc", "abcdefgh", "abc-efg", "abcdéf"} {
		if _, err := Decode(s); !errors.Is(err, ErrBadCode) {
			t.Fatalf("Decode(%q): %v", s, err)
		}
	}
}

func FuzzPermutationRoundTrip(f *testing.F) {
	f.Add(testKey, uint64(0))
	f.Add(testKey, Space-1)
	f.Add(bytes.Repeat([]byte{0}, KeySize), uint64(123456789))
	f.Fuzz(func(t *testing.T, key []byte, id uint64) {
		p, err := New(key)
		if err != nil {
			return
		}
		id %= Space
		x, err := p.Permute(id)
		if err != nil || x >= Space {
			t.Fatalf("Permute(%d) = %d, %v", id, x, err)
		}
		if back, _ := p.Invert(x); back != id {
			t.Fatalf("Invert(Permute(%d)) = %d", id, back)
		}
	})
}

func FuzzCodec(f *testing.F) {
	for _, s := range []string{"0000000", "zzzzzzz", "abc", "aB3-x_Z", "ééé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := Decode(s)
		if err != nil {
			return
		}
		if x >= Space || Encode(x) != s {
			t.Fatalf("Decode(%q) = %d, re-encodes to %q", s, x, Encode(x))
		}
	})
}

func BenchmarkCode(b *testing.B) {
	p := mustNew(b, testKey)
	buf := make([]byte, 0, CodeLen)
	b.ReportAllocs()
	var id uint64
	for b.Loop() {
		buf, _ = p.AppendCode(buf[:0], id)
		id++
	}
}
