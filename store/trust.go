package store

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// A user's trust settings (issue 14), set by an admin:
//
//	L<user:8>   UserTrust: daily link quota override, approval (trust.go)
//
// A user without a record has the server's defaults (--user-daily-links,
// --review-new-users). Letter L was once noted as kept for domains; it
// was never written before this table.
const tTrust = 'L'

// Quota override modes of UserTrust.Quota. Stored values: only ever add.
const (
	QuotaDefault   uint8 = 0 // the server's --user-daily-links
	QuotaLimit     uint8 = 1 // DailyLinks links per UTC day (0 allowed: none)
	QuotaUnlimited uint8 = 2 // no daily limit
)

// UserTrust is what an admin decided about one user: a daily link quota
// that replaces the server default, and whether the account is approved
// (its new links and profile links are never held for review).
type UserTrust struct {
	User       uint64
	Quota      uint8  // QuotaDefault, QuotaLimit or QuotaUnlimited
	DailyLinks uint32 // the limit under QuotaLimit
	Approved   bool
	By         uint64 // the admin who last changed the record
	At         int64  // when (Unix ms, the proposer's clock)
}

// IsDefault reports whether t changes nothing (no record is kept then).
func (t *UserTrust) IsDefault() bool { return t.Quota == QuotaDefault && !t.Approved }

// DailyLimit is the daily link quota of a user with trust record t (nil:
// none) whose create carries def (the server default, 0 for none): the
// override if there is one. limited is false when there is no limit.
func DailyLimit(t *UserTrust, def uint32) (limit uint64, limited bool) {
	switch {
	case t == nil || t.Quota == QuotaDefault:
		return uint64(def), def != 0
	case t.Quota == QuotaUnlimited:
		return 0, false
	}
	return uint64(t.DailyLinks), true
}

func trustKey(user uint64) []byte { return binary.BigEndian.AppendUint64([]byte{tTrust}, user) }

// MarshalUserTrust encodes a trust record (version 1).
func MarshalUserTrust(t *UserTrust) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(t.User)
	e.u8(t.Quota)
	e.uv(uint64(t.DailyLinks))
	e.bool(t.Approved)
	e.uv(t.By)
	e.iv(t.At)
	return e.b
}

// UnmarshalUserTrust decodes what MarshalUserTrust wrote.
func UnmarshalUserTrust(v []byte) (*UserTrust, error) {
	d := decoder{b: v}
	d.version(recordV1)
	t := &UserTrust{User: d.uv(), Quota: d.u8()}
	n := d.uv()
	if n > math.MaxUint32 {
		d.fail()
	}
	t.DailyLinks = uint32(n)
	t.Approved, t.By, t.At = d.bool(), d.uv(), d.iv()
	return t, d.err
}

// trustOf reads user's record; nil (no error) when there is none.
func trustOf(r reader, user uint64) (*UserTrust, error) {
	t, err := decodeFrom(r, trustKey(user), UnmarshalUserTrust)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// UserTrust returns user's trust record, or nil when the user has the
// defaults.
func (t *Txn) UserTrust(user uint64) (*UserTrust, error) { return trustOf(t.b, user) }

// PutUserTrust stores a trust record; one that changes nothing is removed.
func (t *Txn) PutUserTrust(u *UserTrust) {
	if u.IsDefault() {
		t.del(trustKey(u.User))
		return
	}
	t.set(trustKey(u.User), MarshalUserTrust(u))
}

// UserTrust returns user's trust record, or nil for the defaults.
func (s *Store) UserTrust(user uint64) (u *UserTrust, err error) {
	err = s.view(func(db *pebble.DB) error { u, err = trustOf(db, user); return err })
	return u, err
}
