package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// Account tables; see the package doc for the layout.
const (
	tUser       = 'u' // u<id:8>                      user record
	tEmail      = 'a' // a<lowercased email>          user id
	tOwnerKey   = 'K' // K<owner:8><key id>           sha256 of the key's token
	tSession    = 's' // s<sha256(token):32>          session record
	tUserSess   = 'z' // z<user:8><sha256(token):32>  the user's sessions
	tSessionExp = 'x' // x<expiresAt:8><sha256:32>    session expiry queue
	tInvite     = 'v' // v<sha256(token):32>          invite record
)

// keyNextUser is the last user id handed out (the bootstrap admin is 1).
var keyNextUser = []byte("mnextuser")

// Role is what a user may do. Values are stored; only ever add new ones.
type Role uint8

// Roles.
const (
	RoleAdmin Role = 1
	RoleUser  Role = 2
)

// String returns the API name of the role.
func (r Role) String() string {
	switch r {
	case RoleAdmin:
		return "admin"
	case RoleUser:
		return "user"
	}
	return "unknown"
}

// ParseRole is the inverse of String.
func ParseRole(s string) (Role, bool) {
	switch s {
	case "admin":
		return RoleAdmin, true
	case "user":
		return RoleUser, true
	}
	return 0, false
}

// User is an account. Email is stored as given and indexed lowercased;
// PasswordHash is a PHC-format string ("" until a password is set, as for
// the bootstrap admin before it claims its invite).
type User struct {
	ID           uint64
	Email        string
	PasswordHash string
	Role         Role
	Disabled     bool
	CreatedAt    int64
	UpdatedAt    int64
}

func MarshalUser(u *User) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(u.ID)
	e.str(u.Email)
	e.str(u.PasswordHash)
	e.u8(uint8(u.Role))
	e.bool(u.Disabled)
	e.iv(u.CreatedAt)
	e.iv(u.UpdatedAt)
	return e.b
}

func UnmarshalUser(b []byte) (*User, error) {
	d := decoder{b: b}
	d.version(recordV1)
	u := &User{ID: d.uv(), Email: d.str(), PasswordHash: d.str(), Role: Role(d.u8()),
		Disabled: d.bool(), CreatedAt: d.iv(), UpdatedAt: d.iv()}
	return u, d.err
}

// Session is a console login. Only the hash of its token is stored.
type Session struct {
	User      uint64
	CreatedAt int64
	ExpiresAt int64
}

func marshalSession(s *Session) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.uv(s.User)
	e.iv(s.CreatedAt)
	e.iv(s.ExpiresAt)
	return e.b
}

func unmarshalSession(b []byte) (*Session, error) {
	d := decoder{b: b}
	d.version(recordV1)
	s := &Session{User: d.uv(), CreatedAt: d.iv(), ExpiresAt: d.iv()}
	return s, d.err
}

// Invite lets one person sign up (with Role) when registration is by
// invitation. Claims, when set, makes the sign-up set the email and password
// of that existing user instead of creating one: that is how the bootstrap
// admin gets a console login.
type Invite struct {
	ID        string
	Role      Role
	CreatedBy uint64
	CreatedAt int64
	ExpiresAt int64
	Claims    uint64
}

// Expired reports whether the invite has expired at now (Unix ms); 0 is never.
func (i *Invite) Expired(now int64) bool { return i.ExpiresAt != 0 && now >= i.ExpiresAt }

func marshalInvite(i *Invite) []byte {
	e := encoder{}
	e.u8(recordV1)
	e.str(i.ID)
	e.u8(uint8(i.Role))
	e.uv(i.CreatedBy)
	e.iv(i.CreatedAt)
	e.iv(i.ExpiresAt)
	e.uv(i.Claims)
	return e.b
}

func unmarshalInvite(b []byte) (*Invite, error) {
	d := decoder{b: b}
	d.version(recordV1)
	i := &Invite{ID: d.str(), Role: Role(d.u8()), CreatedBy: d.uv(), CreatedAt: d.iv(),
		ExpiresAt: d.iv(), Claims: d.uv()}
	return i, d.err
}

func userKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte{tUser}, id) }

// EmailKey normalises an email for uniqueness: addresses differing only in
// case are one account.
func emailKey(email string) []byte { return append([]byte{tEmail}, strings.ToLower(email)...) }

func ownerKeyKey(owner uint64, id string) []byte {
	return append(binary.BigEndian.AppendUint64([]byte{tOwnerKey}, owner), id...)
}

func sessionKey(hash []byte) []byte { return append([]byte{tSession}, hash...) }

func userSessKey(user uint64, hash []byte) []byte {
	return append(binary.BigEndian.AppendUint64([]byte{tUserSess}, user), hash...)
}

func sessionExpKey(exp int64, hash []byte) []byte {
	return append(binary.BigEndian.AppendUint64([]byte{tSessionExp}, uint64(exp)), hash...)
}

func inviteKey(hash []byte) []byte { return append([]byte{tInvite}, hash...) }

func decodeFrom[T any](r reader, key []byte, dec func([]byte) (T, error)) (T, error) {
	v, err := get(r, key)
	if err != nil {
		var zero T
		return zero, err
	}
	return dec(v)
}

// ---- Txn: writes, used only by the fsm ----

// User returns a user, or ErrNotFound.
func (t *Txn) User(id uint64) (*User, error) { return decodeFrom(t.b, userKey(id), UnmarshalUser) }

// UserByEmail returns the user with that email (any case), or ErrNotFound.
func (t *Txn) UserByEmail(email string) (*User, error) { return userByEmail(t.b, email) }

func userByEmail(r reader, email string) (*User, error) {
	id, err := indexedID(r, emailKey(email))
	if err != nil {
		return nil, err
	}
	return decodeFrom(r, userKey(id), UnmarshalUser)
}

// indexedID reads an index entry whose value is a user id (emails,
// handles), or ErrNotFound.
func indexedID(r reader, key []byte) (uint64, error) {
	v, err := get(r, key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, ErrCorrupt
	}
	return binary.BigEndian.Uint64(v), nil
}

// NextUserID hands out the next user id. Ids start above the bootstrap
// admin's and are never reused.
func (t *Txn) NextUserID() (uint64, error) {
	n, err := getUint64(t.b, keyNextUser)
	if err != nil {
		return 0, err
	}
	n = max(n, 1) + 1
	t.setUint64(keyNextUser, n)
	return n, nil
}

// PutUser stores u, moving its email index entry when the email changed
// from prev (nil for a new user).
func (t *Txn) PutUser(prev, u *User) {
	if prev != nil && prev.Email != "" && !strings.EqualFold(prev.Email, u.Email) {
		t.del(emailKey(prev.Email))
	}
	if u.Email != "" {
		t.set(emailKey(u.Email), binary.BigEndian.AppendUint64(nil, u.ID))
	}
	t.set(userKey(u.ID), MarshalUser(u))
}

// DeleteUser removes a user and everything they own: their links become
// tombstones (codes are never reissued) without destinations or analytics,
// their profile and its images go, and their keys and sessions are revoked.
func (t *Txn) DeleteUser(u *User, now int64) error {
	t.erased = true
	var codes []string
	err := scanPrefix(t.b, ownerPrefix(u.ID), func(k, _ []byte) error {
		codes = append(codes, string(k[17:]))
		return nil
	})
	if err != nil {
		return err
	}
	for _, code := range codes {
		l, err := t.Link(code)
		if err != nil {
			return err
		}
		t.DeleteLink(l, now)
	}
	if err := t.deleteProfileOf(u.ID); err != nil {
		return err
	}
	keys, err := apiKeys(t.b, u.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := t.DeleteAPIKey(u.ID, k.ID); err != nil {
			return err
		}
	}
	if err := t.DeleteSessions(u.ID); err != nil {
		return err
	}
	if u.Email != "" {
		t.del(emailKey(u.Email))
	}
	t.del(trustKey(u.ID))
	t.del(userKey(u.ID))
	return nil
}

// CreateAPIKey stores a key under the hash of its token and indexes it
// under its owner.
func (t *Txn) CreateAPIKey(hash []byte, k *APIKey) {
	t.PutAPIKey(hash, k)
	t.set(ownerKeyKey(k.Owner, k.ID), hash)
}

// DeleteAPIKey revokes owner's key id; it reports whether there was one.
func (t *Txn) DeleteAPIKey(owner uint64, id string) (bool, error) {
	hash, err := get(t.b, ownerKeyKey(owner, id))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	t.del(ownerKeyKey(owner, id))
	t.del(apiKeyKey(hash))
	return true, nil
}

// APIKeyByID returns owner's key id, or ErrNotFound.
func (t *Txn) APIKeyByID(owner uint64, id string) (*APIKey, error) {
	hash, err := get(t.b, ownerKeyKey(owner, id))
	if err != nil {
		return nil, err
	}
	return decodeFrom(t.b, apiKeyKey(hash), unmarshalAPIKey)
}

// RevokeAPIKey revokes owner's key id and every key it created,
// transitively; it reports whether id existed. An owner holds at most a
// few hundred keys, so the family is found from one listing rather than
// from an index that every create would have to keep.
func (t *Txn) RevokeAPIKey(owner uint64, id string) (bool, error) {
	found, err := t.DeleteAPIKey(owner, id)
	if !found || err != nil {
		return found, err
	}
	keys, err := apiKeys(t.b, owner)
	if err != nil {
		return true, err
	}
	revoked := map[string]bool{id: true}
	for grew := true; grew; {
		grew = false
		for _, k := range keys {
			if k.Parent != "" && revoked[k.Parent] && !revoked[k.ID] {
				if _, err := t.DeleteAPIKey(owner, k.ID); err != nil {
					return true, err
				}
				revoked[k.ID], grew = true, true
			}
		}
	}
	return true, nil
}

// Session returns a session that has not expired at now, or ErrNotFound.
func (t *Txn) Session(hash []byte, now int64) (*Session, error) { return session(t.b, hash, now) }

func session(r reader, hash []byte, now int64) (*Session, error) {
	s, err := decodeFrom(r, sessionKey(hash), unmarshalSession)
	if err == nil && now >= s.ExpiresAt {
		return nil, ErrNotFound
	}
	return s, err
}

// PutSession stores a session and indexes it by user and expiry.
func (t *Txn) PutSession(hash []byte, s *Session) {
	t.set(sessionKey(hash), marshalSession(s))
	t.set(userSessKey(s.User, hash), binary.BigEndian.AppendUint64(nil, uint64(s.ExpiresAt)))
	t.set(sessionExpKey(s.ExpiresAt, hash), binary.BigEndian.AppendUint64(nil, s.User))
}

// DeleteSession ends one session; ending an unknown one is not an error.
func (t *Txn) DeleteSession(hash []byte) error {
	s, err := decodeFrom(t.b, sessionKey(hash), unmarshalSession)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	t.delSession(s.User, s.ExpiresAt, hash)
	return nil
}

func (t *Txn) delSession(user uint64, exp int64, hash []byte) {
	t.del(sessionKey(hash))
	t.del(userSessKey(user, hash))
	t.del(sessionExpKey(exp, hash))
}

// DeleteSessions ends every session of a user (on logout everywhere, a
// password change, disabling or deletion).
func (t *Txn) DeleteSessions(user uint64) error {
	type sess struct {
		hash []byte
		exp  int64
	}
	var all []sess
	err := scanPrefix(t.b, userSessKey(user, nil), func(k, v []byte) error {
		if len(v) != 8 {
			return ErrCorrupt
		}
		all = append(all, sess{append([]byte(nil), k[9:]...), int64(binary.BigEndian.Uint64(v))})
		return nil
	})
	for _, s := range all {
		t.delSession(user, s.exp, s.hash)
	}
	return err
}

// PruneSessions deletes up to max sessions that expired before now, so the
// table does not grow with abandoned logins; the bound keeps applies cheap.
func (t *Txn) PruneSessions(now int64, max int) error {
	type dead struct {
		key  []byte
		user uint64
	}
	var ds []dead
	err := scan(t.b, []byte{tSessionExp}, sessionExpKey(now, nil), func(k, v []byte) error {
		if len(ds) == max {
			return errStopScan
		}
		if len(v) != 8 || len(k) != 41 {
			return ErrCorrupt
		}
		ds = append(ds, dead{append([]byte(nil), k...), binary.BigEndian.Uint64(v)})
		return nil
	})
	for _, d := range ds {
		t.delSession(d.user, int64(binary.BigEndian.Uint64(d.key[1:9])), d.key[9:])
	}
	return err
}

// Invite returns an invite that has not expired at now, or ErrNotFound.
func (t *Txn) Invite(hash []byte, now int64) (*Invite, error) {
	i, err := decodeFrom(t.b, inviteKey(hash), unmarshalInvite)
	if err == nil && i.Expired(now) {
		return nil, ErrNotFound
	}
	return i, err
}

// PutInvite stores an invite under the hash of its token.
func (t *Txn) PutInvite(hash []byte, i *Invite) { t.set(inviteKey(hash), marshalInvite(i)) }

// DeleteInvite removes an invite by its hash.
func (t *Txn) DeleteInvite(hash []byte) { t.del(inviteKey(hash)) }

// DeleteInviteByID revokes the invite with that id; it reports whether
// there was one. Invites are few, so a scan is fine.
func (t *Txn) DeleteInviteByID(id string) (bool, error) {
	var hash []byte
	err := scanPrefix(t.b, []byte{tInvite}, func(k, v []byte) error {
		i, err := unmarshalInvite(v)
		if err == nil && i.ID == id {
			hash = append([]byte(nil), k[1:]...)
			return errStopScan
		}
		return err
	})
	if hash != nil {
		t.DeleteInvite(hash)
	}
	return hash != nil, err
}

// ---- Store: reads, for everyone else ----

// User returns a user, or ErrNotFound.
func (s *Store) User(id uint64) (u *User, err error) {
	err = s.view(func(db *pebble.DB) error { u, err = decodeFrom(db, userKey(id), UnmarshalUser); return err })
	return u, err
}

// UserByEmail returns the user with that email (any case), or ErrNotFound.
func (s *Store) UserByEmail(email string) (u *User, err error) {
	err = s.view(func(db *pebble.DB) error { u, err = userByEmail(db, email); return err })
	return u, err
}

// Users lists users in id order, starting after id after, at most limit.
func (s *Store) Users(after uint64, limit int) (us []*User, err error) {
	err = s.view(func(db *pebble.DB) error {
		return scan(db, userKey(after+1), []byte{tUser + 1}, func(_, v []byte) error {
			if len(us) == limit {
				return errStopScan
			}
			u, err := UnmarshalUser(v)
			us = append(us, u)
			return err
		})
	})
	return us, err
}

// APIKeys lists an owner's API keys, in id order.
func (s *Store) APIKeys(owner uint64) (ks []*APIKey, err error) {
	err = s.view(func(db *pebble.DB) error { ks, err = apiKeys(db, owner); return err })
	return ks, err
}

type iterGetter interface {
	reader
	iterReader
}

func apiKeys(r iterGetter, owner uint64) ([]*APIKey, error) {
	var hashes [][]byte
	err := scanPrefix(r, ownerKeyKey(owner, ""), func(_, v []byte) error {
		hashes = append(hashes, bytes.Clone(v))
		return nil
	})
	var ks []*APIKey
	for _, h := range hashes {
		k, err := decodeFrom(r, apiKeyKey(h), unmarshalAPIKey)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, err
}

// Session returns a session that has not expired at now, or ErrNotFound.
func (s *Store) Session(hash []byte, now int64) (se *Session, err error) {
	err = s.view(func(db *pebble.DB) error { se, err = session(db, hash, now); return err })
	return se, err
}

// Invite returns the invite whose token hashes to hash, expired or not.
func (s *Store) Invite(hash []byte) (i *Invite, err error) {
	err = s.view(func(db *pebble.DB) error { i, err = decodeFrom(db, inviteKey(hash), unmarshalInvite); return err })
	return i, err
}

// Invites lists every open invite.
func (s *Store) Invites() (is []*Invite, err error) {
	err = s.view(func(db *pebble.DB) error {
		return scanPrefix(db, []byte{tInvite}, func(_, v []byte) error {
			i, err := unmarshalInvite(v)
			is = append(is, i)
			return err
		})
	})
	return is, err
}
