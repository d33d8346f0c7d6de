package fsm

import (
	"errors"
	"strings"

	"github.com/linkd/linkd/store"
)

// Account errors returned in Result.Err.
var (
	// ErrEmailTaken means another user has that email (in any case).
	ErrEmailTaken = errors.New("email already registered")
	// ErrUserNotFound means no such user, or a disabled one where an
	// enabled one is needed.
	ErrUserNotFound = errors.New("user not found")
	// ErrInvalidInvite means the invite does not exist, expired, or was
	// used already.
	ErrInvalidInvite = errors.New("invite not valid")
	// ErrProtectedUser means the change would take the bootstrap admin's
	// rights away; it always stays an enabled admin, so the cluster can
	// never be left without one.
	ErrProtectedUser = errors.New("the bootstrap admin cannot be disabled, demoted or deleted")
	// ErrKeyNotFound means the owner has no API key with that id.
	ErrKeyNotFound = errors.New("API key not found")
	// ErrInviteNotFound means there is no invite with that id.
	ErrInviteNotFound = errors.New("invite not found")
)

// sessionPrunePerCommand bounds how many expired sessions one login deletes.
const sessionPrunePerCommand = 16

// CreateUser registers a user. With InviteHash, the invite decides the role
// (and may claim an existing user without a login) and is used up.
type CreateUser struct {
	Header
	Now          int64  `codec:"now"`
	Email        string `codec:"email"`
	PasswordHash string `codec:"pw"`
	Role         uint8  `codec:"role"`
	InviteHash   []byte `codec:"inv,omitempty"`
}

// UpdateUser changes the fields that are set. A new password or disabling
// ends the user's sessions.
type UpdateUser struct {
	Header
	Now          int64   `codec:"now"`
	ID           uint64  `codec:"id"`
	Email        *string `codec:"email,omitempty"`
	PasswordHash *string `codec:"pw,omitempty"`
	Role         *uint8  `codec:"role,omitempty"`
	Disabled     *bool   `codec:"dis,omitempty"`
}

// DeleteUser deletes a user with their links, analytics, keys and sessions.
// Version 2 (same fields) also erases them from the outbox: their webhook
// endpoints and deliveries go, their queued changes are redacted
// (eraseOutbox). The proposer writes version 1 until every member
// understands version 2.
type DeleteUser struct {
	Header
	Now int64  `codec:"now"`
	ID  uint64 `codec:"id"`
}

// CreateAPIKey stores a new key for an enabled user.
type CreateAPIKey struct {
	Header
	Now       int64    `codec:"now"`
	Hash      []byte   `codec:"h"`
	ID        string   `codec:"id"`
	Name      string   `codec:"name"`
	Owner     uint64   `codec:"owner"`
	Scopes    []string `codec:"scopes"`
	ExpiresAt int64    `codec:"exp,omitempty"`
}

// CreateChildKey stores a key made by another of Owner's keys (Parent):
// its expiry is clamped in Apply to the parent's, and revoking the parent
// revokes it. A parent revoked meanwhile makes it ErrKeyNotFound. Old
// nodes refuse the type, so they never store such a key without its
// parent.
type CreateChildKey struct {
	CreateAPIKey
	Parent string `codec:"parent"`
}

// DeleteAPIKey revokes one of Owner's keys and the keys it created,
// transitively.
type DeleteAPIKey struct {
	Header
	Now   int64  `codec:"now"`
	Owner uint64 `codec:"owner"`
	ID    string `codec:"id"`
}

// CreateSession logs an enabled user in to the console.
type CreateSession struct {
	Header
	Now       int64  `codec:"now"`
	Hash      []byte `codec:"h"`
	User      uint64 `codec:"user"`
	ExpiresAt int64  `codec:"exp"`
}

// DeleteSession logs a session out.
type DeleteSession struct {
	Header
	Now  int64  `codec:"now"`
	Hash []byte `codec:"h"`
}

// CreateInvite lets one person sign up with Role.
type CreateInvite struct {
	Header
	Now       int64  `codec:"now"`
	Hash      []byte `codec:"h"`
	ID        string `codec:"id"`
	Role      uint8  `codec:"role"`
	CreatedBy uint64 `codec:"by"`
	ExpiresAt int64  `codec:"exp,omitempty"`
}

// DeleteInvite revokes an invite.
type DeleteInvite struct {
	Header
	Now int64  `codec:"now"`
	ID  string `codec:"id"`
}

func (*CreateUser) Type() Type     { return TypeCreateUser }
func (*UpdateUser) Type() Type     { return TypeUpdateUser }
func (*DeleteUser) Type() Type     { return TypeDeleteUser }
func (*CreateAPIKey) Type() Type   { return TypeCreateAPIKey }
func (*DeleteAPIKey) Type() Type   { return TypeDeleteAPIKey }
func (*CreateChildKey) Type() Type { return TypeCreateChildKey }
func (*CreateSession) Type() Type  { return TypeCreateSession }
func (*DeleteSession) Type() Type  { return TypeDeleteSession }
func (*CreateInvite) Type() Type   { return TypeCreateInvite }
func (*DeleteInvite) Type() Type   { return TypeDeleteInvite }

// applyAccount applies the account commands; ok is false for other types.
func applyAccount(txn *store.Txn, c Command) (r *Result, ok bool, err error) {
	switch c := c.(type) {
	case *CreateUser:
		r, err = applyCreateUser(txn, c)
	case *UpdateUser:
		r, err = applyUpdateUser(txn, c)
	case *DeleteUser:
		r, err = applyDeleteUser(txn, c)
	case *CreateAPIKey:
		r, err = applyCreateAPIKey(txn, c)
	case *CreateChildKey:
		r, err = applyCreateChildKey(txn, c)
	case *DeleteAPIKey:
		var found bool
		found, err = txn.RevokeAPIKey(c.Owner, c.ID)
		r = resultUnless(!found, ErrKeyNotFound)
	case *CreateSession:
		r, err = applyCreateSession(txn, c)
	case *DeleteSession:
		r, err = &Result{}, txn.DeleteSession(c.Hash)
	case *CreateInvite:
		txn.PutInvite(c.Hash, &store.Invite{ID: c.ID, Role: store.Role(c.Role), CreatedBy: c.CreatedBy,
			CreatedAt: c.Now, ExpiresAt: c.ExpiresAt})
		r = &Result{}
	case *DeleteInvite:
		var found bool
		found, err = txn.DeleteInviteByID(c.ID)
		r = resultUnless(!found, ErrInviteNotFound)
	default:
		return nil, false, nil
	}
	return r, true, err
}

// resultUnless is an empty Result, or one carrying e when failed is set.
func resultUnless(failed bool, e error) *Result {
	if failed {
		return &Result{Err: e}
	}
	return &Result{}
}

// applyCreateUser checks an invite before the email, so that a sign-up
// with a bogus invite is refused the same way for known and unknown
// emails: only someone holding a valid invite learns that an email is
// taken.
func applyCreateUser(txn *store.Txn, c *CreateUser) (*Result, error) {
	prev, err := txn.UserByEmail(c.Email)
	taken := err == nil
	switch {
	case taken && prev.UpdatedAt == c.Now && prev.PasswordHash == c.PasswordHash:
		// This very command, applied before: the hash has a fresh salt.
		return &Result{User: prev, Replayed: true}, nil
	case !taken && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	u := &store.User{Email: c.Email, PasswordHash: c.PasswordHash, Role: store.Role(c.Role),
		CreatedAt: c.Now, UpdatedAt: c.Now}
	var claimed *store.User
	if c.InviteHash != nil {
		inv, err := txn.Invite(c.InviteHash, c.Now)
		if errors.Is(err, store.ErrNotFound) {
			return &Result{Err: ErrInvalidInvite}, nil
		} else if err != nil {
			return nil, err
		}
		u.Role = inv.Role
		if inv.Claims != 0 {
			if claimed, err = txn.User(inv.Claims); err != nil || claimed.Email != "" {
				return &Result{Err: ErrInvalidInvite}, ignoreNotFound(err)
			}
			u.ID, u.Role, u.CreatedAt = claimed.ID, claimed.Role, claimed.CreatedAt
		}
	}
	if taken {
		return &Result{Err: ErrEmailTaken}, nil
	}
	if c.InviteHash != nil {
		txn.DeleteInvite(c.InviteHash)
	}
	if u.ID == 0 {
		if u.ID, err = txn.NextUserID(); err != nil {
			return nil, err
		}
	}
	txn.PutUser(claimed, u)
	return &Result{User: u}, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func applyUpdateUser(txn *store.Txn, c *UpdateUser) (*Result, error) {
	u, err := txn.User(c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrUserNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	if c.ID == AdminUser && ((c.Disabled != nil && *c.Disabled) || (c.Role != nil && store.Role(*c.Role) != store.RoleAdmin)) {
		return &Result{Err: ErrProtectedUser}, nil
	}
	next := *u
	if c.Email != nil && !strings.EqualFold(*c.Email, u.Email) {
		if _, err := txn.UserByEmail(*c.Email); err == nil {
			return &Result{Err: ErrEmailTaken}, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if c.Email != nil {
		next.Email = *c.Email
	}
	if c.Role != nil {
		next.Role = store.Role(*c.Role)
	}
	endSessions := false
	if c.PasswordHash != nil {
		next.PasswordHash, endSessions = *c.PasswordHash, true
	}
	if c.Disabled != nil {
		next.Disabled = *c.Disabled
		endSessions = endSessions || next.Disabled
	}
	next.UpdatedAt = c.Now
	txn.PutUser(u, &next)
	if endSessions {
		if err := txn.DeleteSessions(u.ID); err != nil {
			return nil, err
		}
	}
	return &Result{User: &next}, nil
}

func applyDeleteUser(txn *store.Txn, c *DeleteUser) (*Result, error) {
	if c.ID == AdminUser {
		return &Result{Err: ErrProtectedUser}, nil
	}
	u, err := txn.User(c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &Result{Err: ErrUserNotFound}, nil
	} else if err != nil {
		return nil, err
	}
	if c.V < 2 {
		return &Result{}, txn.DeleteUser(u, c.Now)
	}
	handle, err := profileHandle(txn, u.ID)
	if err != nil {
		return nil, err
	}
	if err := txn.DeleteUser(u, c.Now); err != nil {
		return nil, err
	}
	return &Result{}, eraseOutbox(txn, u.ID, handle, c.Now)
}

// enabledUser returns the user if it exists and is not disabled.
func enabledUser(txn *store.Txn, id uint64) (*store.User, *Result, error) {
	u, err := txn.User(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, &Result{Err: ErrUserNotFound}, nil
	}
	return u, nil, err
}

func applyCreateAPIKey(txn *store.Txn, c *CreateAPIKey) (*Result, error) {
	if _, res, err := enabledUser(txn, c.Owner); res != nil || err != nil {
		return res, err
	}
	txn.CreateAPIKey(c.Hash, &store.APIKey{ID: c.ID, Name: c.Name, Owner: c.Owner,
		Scopes: c.Scopes, CreatedAt: c.Now, ExpiresAt: c.ExpiresAt})
	return &Result{}, nil
}

func applyCreateChildKey(txn *store.Txn, c *CreateChildKey) (*Result, error) {
	parent, err := txn.APIKeyByID(c.Owner, c.Parent)
	if errors.Is(err, store.ErrNotFound) || (err == nil && parent.ExpiresAt != 0 && parent.ExpiresAt <= c.Now) {
		return &Result{Err: ErrKeyNotFound}, nil
	}
	if err != nil {
		return nil, err
	}
	if _, res, err := enabledUser(txn, c.Owner); res != nil || err != nil {
		return res, err
	}
	exp := c.ExpiresAt
	if parent.ExpiresAt != 0 && (exp == 0 || exp > parent.ExpiresAt) {
		exp = parent.ExpiresAt
	}
	txn.CreateAPIKey(c.Hash, &store.APIKey{ID: c.ID, Name: c.Name, Owner: c.Owner,
		Scopes: c.Scopes, CreatedAt: c.Now, ExpiresAt: exp, Parent: c.Parent})
	return &Result{}, nil
}

func applyCreateSession(txn *store.Txn, c *CreateSession) (*Result, error) {
	if err := txn.PruneSessions(c.Now, sessionPrunePerCommand); err != nil {
		return nil, err
	}
	u, res, err := enabledUser(txn, c.User)
	if res != nil || err != nil {
		return res, err
	}
	if _, err := txn.Session(c.Hash, c.Now); err == nil {
		return &Result{User: u, Replayed: true}, nil // the token is fresh: a retry
	}
	txn.PutSession(c.Hash, &store.Session{User: c.User, CreatedAt: c.Now, ExpiresAt: c.ExpiresAt})
	return &Result{User: u}, nil
}
