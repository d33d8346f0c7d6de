package ops

import (
	"errors"
	"strconv"
	"time"

	"github.com/linkd/linkd/store"
)

// Principal is who a request acts for: a user through an API key or a
// console session.
type Principal struct {
	User   *store.User
	Key    *store.APIKey // nil for a console session
	Scopes Scope
}

// Owner is the id of the user the principal acts for.
func (p Principal) Owner() uint64 { return p.User.ID }

// Can reports whether the principal holds every scope of sc.
func (p Principal) Can(sc Scope) bool { return p.Scopes&sc == sc }

// IsAdmin reports whether the principal may act for every user.
func (p Principal) IsAdmin() bool { return p.Can(ScopeAdmin) }

// LimiterKey names the write budget the principal spends: its API key's,
// or its user's for console sessions.
func (p Principal) LimiterKey() string {
	if p.Key == nil {
		return "user:" + strconv.FormatUint(p.User.ID, 10)
	}
	return "key:" + p.Key.ID
}

// ErrUnauthorized explains why a credential was refused.
var ErrUnauthorized = errors.New("the credential is not valid")

// ForToken resolves an API token: the key must exist and not have expired,
// and its user must exist and be enabled.
func (o *Ops) ForToken(token string, now time.Time) (Principal, error) {
	hash := store.TokenHash(token)
	gen := o.st.AccountsGen() // before the reads: a change during them invalidates what they return
	p, ok := o.tokens.get(hash, gen)
	if !ok {
		var err error
		if p, err = o.principalForKey(hash); err != nil {
			return Principal{}, err
		}
		o.tokens.put(hash, gen, p)
	}
	if p.Key.ExpiresAt != 0 && now.UnixMilli() >= p.Key.ExpiresAt {
		return Principal{}, ErrUnauthorized
	}
	return p, nil
}

// ForSession resolves a console session token; unknown, expired and
// disabled sessions are ErrUnauthorized.
func (o *Ops) ForSession(token string, now time.Time) (Principal, error) {
	se, err := o.st.Session(store.TokenHash(token), now.UnixMilli())
	if err != nil {
		return Principal{}, lookupErr(err)
	}
	u, err := o.enabledUser(se.User)
	if err != nil {
		return Principal{}, err
	}
	return Principal{User: u, Scopes: RoleScopes(u.Role)}, nil
}

// enabledUser loads a user that exists and is not disabled.
func (o *Ops) enabledUser(id uint64) (*store.User, error) {
	u, err := o.st.User(id)
	if err != nil {
		return nil, lookupErr(err)
	}
	if u.Disabled {
		return nil, ErrUnauthorized
	}
	return u, nil
}

// lookupErr maps a missing record to ErrUnauthorized and keeps real errors.
func lookupErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnauthorized
	}
	return err
}
