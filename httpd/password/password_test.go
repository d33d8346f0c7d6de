package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h := Hash("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if h == Hash("correct horse battery") {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batter": false, "": false} {
		ok, err := Verify(h, pw)
		if err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if VerifyNone("x") {
		t.Fatal("VerifyNone accepted")
	}
}

func TestVerifyOtherParameters(t *testing.T) {
	// A hash made with other parameters (as after raising them) verifies.
	h := "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$" // key filled below
	ok, err := Verify(h+"AAAA", "x")
	if err != nil || ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}

func TestMalformed(t *testing.T) {
	for _, h := range []string{"", "$2a$10$abc", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=1,t=1,p=1$!!$AAAA", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA"} {
		if _, err := Verify(h, "pw"); err == nil {
			t.Errorf("Verify(%q) accepted a malformed hash", h)
		}
	}
}

func TestCheck(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, "ten chars!": true, strings.Repeat("x", 257): false, "\xff\xfe invalid utf8": false, "ünïcödé-pässwörd": true} {
		if got := Check(pw) == nil; got != ok {
			t.Errorf("Check(%q) ok=%v, want %v", pw, got, ok)
		}
	}
}

// BenchmarkHash is the cost of one login's password check (and of one
// guess for an attacker holding the hash).
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		Hash("correct horse battery")
	}
}
