// Package golden compares encodings with golden files of hex text, so a
// change to anything linkd replicates or stores fails a test. It is for
// tests only; it holds no format knowledge of its own.
package golden

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Read returns the bytes of a golden file: hex digits, whitespace and lines
// starting with # ignored.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	var digits strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "#") {
			digits.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// Write stores b as a golden file with a comment line.
func Write(t testing.TB, path, comment string, b []byte) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("# " + comment + "\n")
	h := hex.EncodeToString(b)
	for len(h) > 64 {
		sb.WriteString(h[:64] + "\n")
		h = h[64:]
	}
	sb.WriteString(h + "\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Check compares got with the golden file at path, reporting a difference
// as an error, and returns the golden bytes. With update it rewrites the
// file instead and returns got.
func Check(t testing.TB, path, comment string, got []byte, update bool) []byte {
	t.Helper()
	if update {
		Write(t, path, comment, got)
		return got
	}
	want := Read(t, path)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encoding changed (data already written would be read differently):\n got %x\nwant %x", path, got, want)
	}
	return want
}
