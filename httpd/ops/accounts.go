package ops

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/password"
	"github.com/linkd/linkd/internal/token"
	"github.com/linkd/linkd/store"
)

// Account limits, kept together.
const (
	maxEmailLen   = 254
	maxKeyNameLen = 64
	// maxKeysPerUser bounds how many API keys one user may hold.
	maxKeysPerUser = 100
	// inviteTTL is how long an admin's invite link stays valid.
	inviteTTL = 7 * 24 * time.Hour
	// SessionTTL is how long a console login lasts.
	SessionTTL = 14 * 24 * time.Hour
)

// NormEmail is the form of an email that budgets and lookups key on.
func NormEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// checkEmail accepts a plain address (no display name), as typed.
func checkEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	a, err := mail.ParseAddress(e)
	switch {
	case e == "":
		return "", errors.New("is required")
	case len(e) > maxEmailLen:
		return "", fmt.Errorf("must be at most %d characters", maxEmailLen)
	case err != nil || a.Address != e || a.Name != "" || !strings.Contains(e[strings.LastIndexByte(e, '@'):], "."):
		return "", errors.New("must be an email address like name@example.com")
	}
	return e, nil
}

// User is a user as the API shows it (never the password hash).
type User struct {
	ID        uint64 `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"createdAt"`
}

// UserView shows u.
func UserView(u *store.User) User {
	return User{ID: u.ID, Email: u.Email, Role: u.Role.String(), Disabled: u.Disabled, CreatedAt: MsTime(u.CreatedAt)}
}

// Key is an API key as the API shows it; Token only when it is made.
type Key struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	CreatedAt string   `json:"createdAt"`
	ExpiresAt *string  `json:"expiresAt"`
	Token     string   `json:"token,omitempty"`
}

// KeyView shows k.
func KeyView(k *store.APIKey) Key {
	return Key{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: MsTime(k.CreatedAt), ExpiresAt: optTime(k.ExpiresAt)}
}

// Keys lists the principal's API keys.
func (o *Ops) Keys(p Principal) ([]Key, error) {
	ks, err := o.st.APIKeys(p.Owner())
	out := make([]Key, 0, len(ks))
	for _, k := range ks {
		out = append(out, KeyView(k))
	}
	return out, err
}

// NewKey is a key to create.
type NewKey struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expiresAt"`
}

// CreateKey makes a key for p's user. A key never holds a scope its
// creator lacks, so neither a narrow key nor a user can mint a wider one.
// A key made by a key is its child: it never expires later than its
// parent (a later or missing expiry is clamped to the parent's, and the
// answer shows the clamped one), and revoking the parent revokes it.
// Changing a password revokes no keys: keys are credentials of their own,
// handed to programs; revoking the key a leak started from revokes every
// key made from it.
func (o *Ops) CreateKey(p Principal, req NewKey) (Key, error) {
	var errs Fields
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > maxKeyNameLen || !controlFree(name, false) {
		errs.Add("name", fmt.Errorf("must be 1 to %d printable characters", maxKeyNameLen))
	}
	set, err := ParseScopes(req.Scopes)
	if err == nil && set == 0 {
		err = errors.New("must name at least one scope")
	}
	errs.Add("scopes", err)
	var exp int64
	if req.ExpiresAt != nil {
		exp, err = ParseExpiry(*req.ExpiresAt, time.Now())
		errs.Add("expiresAt", err)
	}
	if err := Invalid("The key was not created.", errs); err != nil {
		return Key{}, err
	}
	if !p.Can(set) {
		return Key{}, Fail(KindForbidden, "A key cannot grant "+strings.Join(ScopeList(set&^p.Scopes), ", ")+
			": you do not have it.", FieldError{Field: "scopes", Message: "exceeds what you may grant"})
	}
	if ks, err := o.st.APIKeys(p.Owner()); err != nil {
		return Key{}, err
	} else if len(ks) >= maxKeysPerUser {
		return Key{}, Fail(KindValidation, fmt.Sprintf("You have %d keys, the most allowed; revoke one first.", maxKeysPerUser))
	}
	tok := token.API()
	c := &fsm.CreateAPIKey{Now: time.Now().UnixMilli(), Hash: store.TokenHash(tok), ID: token.ID(),
		Name: name, Owner: p.Owner(), Scopes: ScopeList(set), ExpiresAt: exp}
	var cmd fsm.Command = c
	if p.Key != nil {
		if pe := p.Key.ExpiresAt; pe != 0 && (c.ExpiresAt == 0 || c.ExpiresAt > pe) {
			c.ExpiresAt = pe // Apply clamps the same way; this is what the answer shows
		}
		cmd = &fsm.CreateChildKey{CreateAPIKey: *c, Parent: p.Key.ID}
	}
	if _, err := o.propose(cmd); err != nil {
		return Key{}, err
	}
	v := KeyView(&store.APIKey{ID: c.ID, Name: c.Name, Scopes: c.Scopes, CreatedAt: c.Now, ExpiresAt: c.ExpiresAt})
	v.Token = tok
	return v, nil
}

// DeleteKey revokes one of p's own keys.
func (o *Ops) DeleteKey(p Principal, id string) error {
	_, err := o.propose(&fsm.DeleteAPIKey{Now: time.Now().UnixMilli(), Owner: p.Owner(), ID: id})
	return err
}

// ---- users ----

// NewUser is an account to create.
type NewUser struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

// Users lists up to limit users after the id after (admins).
func (o *Ops) Users(after uint64, limit int) ([]User, error) {
	us, err := o.st.Users(after, limit)
	out := make([]User, 0, len(us))
	for _, u := range us {
		out = append(out, UserView(u))
	}
	return out, err
}

// User reads one user (admins).
func (o *Ops) User(id uint64) (User, error) {
	u, err := o.st.User(id)
	if errors.Is(err, store.ErrNotFound) {
		err = fsm.ErrUserNotFound
	}
	if err != nil {
		return User{}, err
	}
	return UserView(u), nil
}

// CreateUser creates an account (admins).
func (o *Ops) CreateUser(req NewUser) (*store.User, error) {
	res, err := o.proposeValid(newUser(req, ""))
	if err != nil {
		return nil, err
	}
	return res.User, nil
}

// SignUp creates an account through the console's sign-up form: with an
// invite token, or without one when registration is open.
// The invite is checked first, before the email or the password (and
// before paying for a password hash): a bogus invite gets the same answer
// whether or not the email has an account. Apply checks it first too.
func (o *Ops) SignUp(email, pw, invite string) (*store.User, error) {
	if invite != "" {
		inv, err := o.st.Invite(store.TokenHash(invite))
		if errors.Is(err, store.ErrNotFound) || (err == nil && inv.Expired(time.Now().UnixMilli())) {
			return nil, fsm.ErrInvalidInvite
		} else if err != nil {
			return nil, err
		}
	}
	res, err := o.proposeValid(newUser(NewUser{Email: email, Password: pw}, invite))
	if err != nil {
		return nil, err
	}
	return res.User, nil
}

// newUser validates a registration and hashes its password. invite is the
// invite token ("" for none).
func newUser(req NewUser, invite string) (*fsm.CreateUser, error) {
	var errs Fields
	email, err := checkEmail(req.Email)
	errs.Add("email", err)
	errs.Add("password", password.Check(req.Password))
	role := store.RoleUser
	if req.Role != "" {
		var ok bool
		if role, ok = store.ParseRole(req.Role); !ok {
			errs.Add("role", errors.New(`must be "admin" or "user"`))
		}
	}
	if err := Invalid("The account was not created.", errs); err != nil {
		return nil, err
	}
	c := &fsm.CreateUser{Now: time.Now().UnixMilli(), Email: email, PasswordHash: password.Hash(req.Password), Role: uint8(role)}
	if invite != "" {
		c.InviteHash = store.TokenHash(invite)
	}
	return c, nil
}

// UserPatch is a change to a user; nil fields stay.
type UserPatch struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// UpdateUser changes a user (admins).
func (o *Ops) UpdateUser(id uint64, req UserPatch) (*store.User, error) {
	res, err := o.proposeValid(userUpdate(id, req))
	if err != nil {
		return nil, err
	}
	return res.User, nil
}

// userUpdate validates a patch into a command.
func userUpdate(id uint64, req UserPatch) (*fsm.UpdateUser, error) {
	c := &fsm.UpdateUser{Now: time.Now().UnixMilli(), ID: id, Disabled: req.Disabled}
	var errs Fields
	if req.Email != nil {
		e, err := checkEmail(*req.Email)
		errs.Add("email", err)
		c.Email = &e
	}
	if req.Password != nil {
		if err := password.Check(*req.Password); err != nil {
			errs.Add("password", err)
		} else {
			h := password.Hash(*req.Password)
			c.PasswordHash = &h
		}
	}
	if req.Role != nil {
		r, ok := store.ParseRole(*req.Role)
		if !ok {
			errs.Add("role", errors.New(`must be "admin" or "user"`))
		}
		b := uint8(r)
		c.Role = &b
	}
	if err := Invalid("The account was not changed.", errs); err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteUser deletes a user and everything they own (admins, and
// EraseSelf). It writes version 2, which also erases the user from the
// outbox (webhook endpoints, queued purges and deliveries), once every
// member understands it; until then version 1, which leaves those (see
// fsm/DESIGN.md, "Erasure").
func (o *Ops) DeleteUser(id uint64) error {
	c := &fsm.DeleteUser{Now: time.Now().UnixMilli(), ID: id}
	if !o.cl.Understands(fsm.TypeDeleteUser, 2) {
		c.V = 1
	}
	_, err := o.propose(c)
	return err
}

// ---- invites ----

// Invite is an invite as the API shows it; URL only when it is made.
type Invite struct {
	ID        string  `json:"id"`
	Role      string  `json:"role"`
	CreatedAt string  `json:"createdAt"`
	ExpiresAt *string `json:"expiresAt"`
	URL       string  `json:"url,omitempty"`
}

// InviteView shows i.
func InviteView(i *store.Invite) Invite {
	return Invite{ID: i.ID, Role: i.Role.String(), CreatedAt: MsTime(i.CreatedAt), ExpiresAt: optTime(i.ExpiresAt)}
}

// Invites lists the invites that have not expired (admins).
func (o *Ops) Invites() ([]Invite, error) {
	is, err := o.st.Invites()
	out := []Invite{}
	now := time.Now().UnixMilli()
	for _, i := range is {
		if !i.Expired(now) {
			out = append(out, InviteView(i))
		}
	}
	return out, err
}

// CreateInvite makes a one-time sign-up link valid for inviteTTL (admins).
func (o *Ops) CreateInvite(p Principal, roleName string) (Invite, error) {
	role := store.RoleUser
	if roleName != "" {
		var ok bool
		if role, ok = store.ParseRole(roleName); !ok {
			return Invite{}, Fail(KindValidation, "The invite was not created.",
				FieldError{Field: "role", Message: `must be "admin" or "user"`})
		}
	}
	tok := token.Invite()
	now := time.Now()
	c := &fsm.CreateInvite{Now: now.UnixMilli(), Hash: store.TokenHash(tok), ID: token.ID(),
		Role: uint8(role), CreatedBy: p.Owner(), ExpiresAt: now.Add(inviteTTL).UnixMilli()}
	if _, err := o.propose(c); err != nil {
		return Invite{}, err
	}
	v := InviteView(&store.Invite{ID: c.ID, Role: role, CreatedAt: c.Now, ExpiresAt: c.ExpiresAt})
	v.URL = o.public + "/app/signup?invite=" + tok
	return v, nil
}

// DeleteInvite revokes an invite (admins).
func (o *Ops) DeleteInvite(id string) error {
	_, err := o.propose(&fsm.DeleteInvite{Now: time.Now().UnixMilli(), ID: id})
	return err
}

// ---- sessions ----

// errBadLogin is the one answer for an unknown email, a wrong password
// and a disabled account, so the form does not tell which emails exist.
var errBadLogin = Fail(KindUnauthorized, "The email or password is not correct.")

// CheckPassword returns the enabled user with this email and password.
func (o *Ops) CheckPassword(email, pw string) (*store.User, error) {
	u, err := o.st.UserByEmail(strings.TrimSpace(email))
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == "") {
		password.VerifyNone(pw)
		return nil, errBadLogin
	}
	if err != nil {
		return nil, err
	}
	ok, err := password.Verify(u.PasswordHash, pw)
	if err != nil || !ok || u.Disabled {
		return nil, errors.Join(err, errBadLogin)
	}
	return u, nil
}

// StartSession starts a console session for u and returns its token.
func (o *Ops) StartSession(u *store.User) (string, error) {
	tok := token.Session()
	now := time.Now()
	_, err := o.propose(&fsm.CreateSession{Now: now.UnixMilli(), Hash: store.TokenHash(tok), User: u.ID,
		ExpiresAt: now.Add(SessionTTL).UnixMilli()})
	return tok, err
}

// EndSession ends the console session with this token.
func (o *Ops) EndSession(tok string) error {
	_, err := o.propose(&fsm.DeleteSession{Now: time.Now().UnixMilli(), Hash: store.TokenHash(tok)})
	return err
}

// controlFree reports whether s has no C0 or C1 control characters other
// than, when multiline, newlines.
func controlFree(s string, multiline bool) bool {
	for _, r := range s {
		if (r < 0x20 && !(multiline && r == '\n')) || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
