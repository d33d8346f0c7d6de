package store

import (
	"crypto/sha256"
	"encoding/binary"
)

// Table prefixes; see the package doc for the layout.
const (
	tMeta    = 'm'
	tLink    = 'l'
	tCreated = 'c'
	tOwner   = 'o'
	tIdem    = 'i'
	tIdemExp = 'e'
	tRange   = 'r'
	tKey     = 'k'
	tMember  = 'n'
)

// Meta keys.
var (
	keyApplied = []byte("mapplied")
	keyPerm    = []byte("mpermkey")
	keyNextID  = []byte("mnextid")
	keyInit    = []byte("minit")
)

// IdemIDLen is the length of an idempotency record id.
const IdemIDLen = 16

func linkKey(code string) []byte { return append([]byte{tLink}, code...) }

func createdKey(createdAt int64, code string) []byte {
	k := binary.BigEndian.AppendUint64([]byte{tCreated}, ^uint64(createdAt))
	return append(k, code...)
}

func ownerKey(owner uint64, createdAt int64, code string) []byte {
	k := binary.BigEndian.AppendUint64([]byte{tOwner}, owner)
	k = binary.BigEndian.AppendUint64(k, ^uint64(createdAt))
	return append(k, code...)
}

func ownerPrefix(owner uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tOwner}, owner)
}

// IdemID derives the idempotency record id for an owner's key.
func IdemID(owner uint64, key string) []byte {
	h := sha256.New()
	var o [8]byte
	binary.BigEndian.PutUint64(o[:], owner)
	h.Write(o[:])
	h.Write([]byte(key))
	return h.Sum(nil)[:IdemIDLen]
}

func idemKey(id []byte) []byte { return append([]byte{tIdem}, id...) }

func idemExpKey(expiresAt int64, id []byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte{tIdemExp}, uint64(expiresAt))
	return append(k, id...)
}

func rangeKey(nodeID string) []byte { return append([]byte{tRange}, nodeID...) }

// TokenHash is how API tokens are looked up: only this hash is stored.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func apiKeyKey(hash []byte) []byte { return append([]byte{tKey}, hash...) }

func memberKey(nodeID string) []byte { return append([]byte{tMember}, nodeID...) }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
