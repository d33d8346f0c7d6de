// Package password hashes and verifies account passwords with argon2id
// (RFC 9106), stored as PHC strings so that parameters can be raised later
// without invalidating existing hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Parameters of new hashes: OWASP's argon2id baseline (19 MiB, 2 passes,
// one lane). About 25 ms per hash on one core: cheap enough for logins,
// costly for offline guessing. Login throttling bounds online guessing.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	saltLen   = 16
	keyLen    = 32
)

// Limits on what a password may be.
const (
	MinLength = 10
	MaxLength = 256 // bytes; bounds the work an attacker can ask for
)

// ErrMalformed means a stored hash is not one this package wrote.
var ErrMalformed = errors.New("password: malformed hash")

var b64 = base64.RawStdEncoding

// Check says what is wrong with a new password, or nil.
func Check(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return errors.New("must be valid text")
	case utf8.RuneCountInString(pw) < MinLength:
		return fmt.Errorf("must be at least %d characters", MinLength)
	case len(pw) > MaxLength:
		return fmt.Errorf("must be at most %d bytes", MaxLength)
	}
	return nil
}

// Hash returns the PHC string of pw with a fresh salt.
func Hash(pw string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memoryKiB, passes, lanes, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether pw matches the PHC string, in constant time with
// respect to the key. Hashes with other parameters verify with their own.
func Verify(phc, pw string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, ErrMalformed
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false, ErrMalformed
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(pw) > MaxLength {
		return false, errors.Join(ErrMalformed, err1, err2)
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// dummy is verified against when the account does not exist, so that a
// login takes as long for unknown emails as for wrong passwords.
var dummy = Hash("not a real password, only for timing")

// VerifyNone spends the time of one Verify and reports false.
func VerifyNone(pw string) bool {
	_, _ = Verify(dummy, pw)
	return false
}
