// Package token makes the random secrets and ids of linkd: API tokens,
// invite tokens, session tokens and record ids. One place, so every secret
// comes from crypto/rand with the same strength and format.
package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// APIPrefix starts every API token, so leaked tokens are easy to scan for.
const APIPrefix = "lk_"

// API returns a new API token.
func API() string { return APIPrefix + Hex(24) }

// Invite returns a new invite token.
func Invite() string { return "inv_" + Hex(16) }

// Session returns a new console session (or CSRF cookie) token.
func Session() string { return base64.RawURLEncoding.EncodeToString(Bytes(32)) }

// ID returns a new random record id (API keys, invites).
func ID() string { return Hex(8) }

// Bytes returns n random bytes.
func Bytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

// Hex returns n random bytes, hex-encoded.
func Hex(n int) string { return hex.EncodeToString(Bytes(n)) }
