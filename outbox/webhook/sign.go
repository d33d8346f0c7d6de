// Package webhook is the wire side of linkd's webhooks: secrets and
// signatures (the Standard Webhooks scheme), the JSON payload of each
// event, the address policy for endpoint URLs and the HTTP client that
// delivers, which enforces that policy again at dial time.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// secretPrefix starts every secret (Standard Webhooks).
const secretPrefix = "whsec_"

// secretBytes is the length of a generated secret's key.
const secretBytes = 32

// Secret length bounds for secrets a user provides (the decoded key).
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// NewSecret returns a random secret, whsec_<base64 of 32 bytes>.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ErrSecret means a provided secret is not whsec_<base64> of 24 to 64 bytes.
var ErrSecret = errors.New("secret must be whsec_ followed by the base64 of 24 to 64 random bytes")

// secretKey returns the HMAC key of a secret.
func secretKey(secret string) ([]byte, error) {
	s, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) < MinSecretBytes || len(k) > MaxSecretBytes {
		return nil, ErrSecret
	}
	return k, nil
}

// CheckSecret validates a secret a user provides.
func CheckSecret(secret string) error {
	_, err := secretKey(secret)
	return err
}

// Sign returns the webhook-signature header value for a message:
// "v1,<base64 of HMAC-SHA256(key, id.timestamp.body)>".
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	k, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}
