package httpd

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

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
	inviteTTL    = 7 * 24 * time.Hour
	maxUsersPage = 200
)

// Registration is how people get accounts on this instance.
type Registration string

// Registration modes.
const (
	RegistrationOpen   Registration = "open"   // anyone may sign up
	RegistrationInvite Registration = "invite" // only with an admin's invite link
	RegistrationClosed Registration = "closed" // only admins create accounts
)

// ParseRegistration checks a mode name.
func ParseRegistration(s string) (Registration, error) {
	switch r := Registration(s); r {
	case RegistrationOpen, RegistrationInvite, RegistrationClosed:
		return r, nil
	}
	return "", fmt.Errorf("registration mode %q: want open, invite or closed", s)
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

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

// userJSON is a user as the API shows it (never the password hash).
type userJSON struct {
	ID        uint64 `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"createdAt"`
}

func userView(u *store.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Role: u.Role.String(), Disabled: u.Disabled, CreatedAt: msTime(u.CreatedAt)}
}

// keyJSON is an API key as the API shows it; Token only when it is made.
type keyJSON struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	CreatedAt string   `json:"createdAt"`
	ExpiresAt *string  `json:"expiresAt"`
	Token     string   `json:"token,omitempty"`
}

func keyView(k *store.APIKey) keyJSON {
	v := keyJSON{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: msTime(k.CreatedAt)}
	if k.ExpiresAt != 0 {
		t := msTime(k.ExpiresAt)
		v.ExpiresAt = &t
	}
	return v
}

// accountRoutes serves /me, /keys, /users and /invites.
func (s *Server) accountRoutes(ctx *fasthttp.RequestCtx, p principal, rest string) map[string]route {
	first, id, hasID := strings.Cut(rest, "/")
	switch {
	case rest == "me":
		return map[string]route{"GET": {0, func() { writeJSON(ctx, fasthttp.StatusOK, s.meView(p)) }}}
	case rest == "keys":
		return map[string]route{
			"GET":  {0, func() { s.listKeys(ctx, p) }},
			"POST": {0, func() { s.apiCreateKey(ctx, p) }},
		}
	case first == "keys" && hasID && id != "":
		return map[string]route{"DELETE": {0, func() { s.answer(ctx, fasthttp.StatusNoContent, nil, s.deleteKey(p, id)) }}}
	case rest == "users":
		return map[string]route{
			"GET":  {scopeAdmin, func() { s.listUsers(ctx) }},
			"POST": {scopeAdmin, func() { s.apiCreateUser(ctx) }},
		}
	case first == "users" && hasID:
		uid, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return nil
		}
		return map[string]route{
			"GET":    {scopeAdmin, func() { s.getUser(ctx, uid) }},
			"PATCH":  {scopeAdmin, func() { s.patchUser(ctx, uid) }},
			"DELETE": {scopeAdmin, func() { s.answer(ctx, fasthttp.StatusNoContent, nil, s.deleteUser(uid)) }},
		}
	case rest == "invites":
		return map[string]route{
			"GET":  {scopeAdmin, func() { s.listInvites(ctx) }},
			"POST": {scopeAdmin, func() { s.apiCreateInvite(ctx, p) }},
		}
	case first == "invites" && hasID && id != "":
		return map[string]route{"DELETE": {scopeAdmin, func() { s.answer(ctx, fasthttp.StatusNoContent, nil, s.deleteInvite(id)) }}}
	}
	return nil
}

// answer writes v with status, or the problem for err.
func (s *Server) answer(ctx *fasthttp.RequestCtx, status int, v any, err error) {
	switch {
	case err != nil:
		s.proposeErr(ctx, err)
	case v == nil:
		ctx.SetStatusCode(status)
	default:
		writeJSON(ctx, status, v)
	}
}

// propose commits c with the API's write timeout.
func (s *Server) propose(c fsm.Command) (*fsm.Result, error) {
	wctx, cancel := s.writeCtx()
	defer cancel()
	res, err := s.cfg.Cluster.Propose(wctx, c)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	return res, err
}

// proposeValid proposes c unless building it failed: it takes a command
// constructor's results directly.
func (s *Server) proposeValid(c fsm.Command, err error) (*fsm.Result, error) {
	if err != nil {
		return nil, err
	}
	return s.propose(c)
}

func (s *Server) meView(p principal) any {
	out := struct {
		userJSON
		Scopes []string `json:"scopes"`
		Key    *keyJSON `json:"key"`
	}{userJSON: userView(p.user), Scopes: scopeList(p.scopes)}
	if p.key != nil {
		k := keyView(p.key)
		out.Key = &k
	}
	return out
}

// ---- API keys ----

// keyRequest is the body of POST /api/v1/keys (and the console's form).
type keyRequest struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expiresAt"`
}

func (s *Server) listKeys(ctx *fasthttp.RequestCtx, p principal) {
	ks, err := s.st.APIKeys(p.owner())
	out := struct {
		Items []keyJSON `json:"items"`
	}{Items: []keyJSON{}}
	for _, k := range ks {
		out.Items = append(out.Items, keyView(k))
	}
	s.answer(ctx, fasthttp.StatusOK, out, err)
}

func (s *Server) apiCreateKey(ctx *fasthttp.RequestCtx, p principal) {
	var req keyRequest
	if !readJSON(ctx, &req) {
		return
	}
	k, err := s.createKey(p, req)
	if err == nil {
		ctx.Response.Header.Set("Location", "/api/v1/keys/"+k.ID)
	}
	s.answer(ctx, fasthttp.StatusCreated, k, err)
}

// createKey makes a key for p's user. A key never holds a scope its
// creator lacks, so neither a narrow key nor a user can mint a wider one.
func (s *Server) createKey(p principal, req keyRequest) (keyJSON, error) {
	var errs fields
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > maxKeyNameLen || !printableText(name) {
		errs.add("name", fmt.Errorf("must be 1 to %d printable characters", maxKeyNameLen))
	}
	set, err := parseScopes(req.Scopes)
	if err == nil && set == 0 {
		err = errors.New("must name at least one scope")
	}
	errs.add("scopes", err)
	var exp int64
	if req.ExpiresAt != nil {
		exp, err = parseExpiry(*req.ExpiresAt, time.Now())
		errs.add("expiresAt", err)
	}
	if errs != nil {
		return keyJSON{}, fail(probValidation, "The key was not created.", errs...)
	}
	if !p.can(set) {
		return keyJSON{}, fail(probForbidden, "A key cannot grant "+strings.Join(scopeList(set&^p.scopes), ", ")+
			": you do not have it.", fieldError{Field: "scopes", Message: "exceeds what you may grant"})
	}
	if ks, err := s.st.APIKeys(p.owner()); err != nil {
		return keyJSON{}, err
	} else if len(ks) >= maxKeysPerUser {
		return keyJSON{}, fail(probValidation, fmt.Sprintf("You have %d keys, the most allowed; revoke one first.", maxKeysPerUser))
	}
	tok := token.API()
	c := &fsm.CreateAPIKey{Now: time.Now().UnixMilli(), Hash: store.TokenHash(tok), ID: token.ID(),
		Name: name, Owner: p.owner(), Scopes: scopeList(set), ExpiresAt: exp}
	if _, err := s.propose(c); err != nil {
		return keyJSON{}, err
	}
	v := keyView(&store.APIKey{ID: c.ID, Name: c.Name, Scopes: c.Scopes, CreatedAt: c.Now, ExpiresAt: c.ExpiresAt})
	v.Token = tok
	return v, nil
}

// deleteKey revokes one of p's own keys.
func (s *Server) deleteKey(p principal, id string) error {
	_, err := s.propose(&fsm.DeleteAPIKey{Now: time.Now().UnixMilli(), Owner: p.owner(), ID: id})
	return err
}

// ---- users (admins) ----

// userRequest is the body of POST /api/v1/users.
type userRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

// newUser validates a registration and hashes its password. invite is the
// invite token ("" for none).
func newUser(req userRequest, invite string) (*fsm.CreateUser, error) {
	var errs fields
	email, err := checkEmail(req.Email)
	errs.add("email", err)
	errs.add("password", password.Check(req.Password))
	role := store.RoleUser
	if req.Role != "" {
		var ok bool
		if role, ok = store.ParseRole(req.Role); !ok {
			errs.add("role", errors.New(`must be "admin" or "user"`))
		}
	}
	if errs != nil {
		return nil, fail(probValidation, "The account was not created.", errs...)
	}
	c := &fsm.CreateUser{Now: time.Now().UnixMilli(), Email: email, PasswordHash: password.Hash(req.Password), Role: uint8(role)}
	if invite != "" {
		c.InviteHash = store.TokenHash(invite)
	}
	return c, nil
}

func (s *Server) apiCreateUser(ctx *fasthttp.RequestCtx) {
	var req userRequest
	if !readJSON(ctx, &req) {
		return
	}
	res, err := s.proposeValid(newUser(req, ""))
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	ctx.Response.Header.Set("Location", "/api/v1/users/"+strconv.FormatUint(res.User.ID, 10))
	writeJSON(ctx, fasthttp.StatusCreated, userView(res.User))
}

func (s *Server) listUsers(ctx *fasthttp.RequestCtx) {
	after, err1 := optUint(ctx, "after", 0)
	limit, err2 := optUint(ctx, "limit", 50)
	if err := errors.Join(err1, err2); err != nil || limit < 1 || limit > maxUsersPage {
		writeProblem(ctx, probValidation, fmt.Sprintf("after must be a user id; limit 1 to %d.", maxUsersPage))
		return
	}
	us, err := s.st.Users(after, int(limit))
	out := struct {
		Items []userJSON `json:"items"`
		Next  *uint64    `json:"nextAfter"`
	}{Items: []userJSON{}}
	for _, u := range us {
		out.Items = append(out.Items, userView(u))
	}
	if len(us) == int(limit) {
		out.Next = &us[len(us)-1].ID
	}
	s.answer(ctx, fasthttp.StatusOK, out, err)
}

func optUint(ctx *fasthttp.RequestCtx, name string, def uint64) (uint64, error) {
	v := ctx.QueryArgs().Peek(name)
	if len(v) == 0 {
		return def, nil
	}
	return strconv.ParseUint(string(v), 10, 64)
}

func (s *Server) getUser(ctx *fasthttp.RequestCtx, id uint64) {
	u, err := s.st.User(id)
	if errors.Is(err, store.ErrNotFound) {
		err = fsm.ErrUserNotFound
	}
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, userView(u))
}

// userPatch is the body of PATCH /api/v1/users/{id}; absent fields stay.
type userPatch struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

func (s *Server) patchUser(ctx *fasthttp.RequestCtx, id uint64) {
	var req userPatch
	if !readJSON(ctx, &req) {
		return
	}
	res, err := s.proposeValid(userUpdate(id, req))
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, userView(res.User))
}

// userUpdate validates a patch into a command.
func userUpdate(id uint64, req userPatch) (*fsm.UpdateUser, error) {
	c := &fsm.UpdateUser{Now: time.Now().UnixMilli(), ID: id, Disabled: req.Disabled}
	var errs fields
	if req.Email != nil {
		e, err := checkEmail(*req.Email)
		errs.add("email", err)
		c.Email = &e
	}
	if req.Password != nil {
		if err := password.Check(*req.Password); err != nil {
			errs.add("password", err)
		} else {
			h := password.Hash(*req.Password)
			c.PasswordHash = &h
		}
	}
	if req.Role != nil {
		r, ok := store.ParseRole(*req.Role)
		if !ok {
			errs.add("role", errors.New(`must be "admin" or "user"`))
		}
		b := uint8(r)
		c.Role = &b
	}
	if errs != nil {
		return nil, fail(probValidation, "The account was not changed.", errs...)
	}
	return c, nil
}

// deleteUser deletes a user and everything they own.
func (s *Server) deleteUser(id uint64) error {
	_, err := s.propose(&fsm.DeleteUser{Now: time.Now().UnixMilli(), ID: id})
	return err
}

// ---- invites (admins) ----

type inviteJSON struct {
	ID        string  `json:"id"`
	Role      string  `json:"role"`
	CreatedAt string  `json:"createdAt"`
	ExpiresAt *string `json:"expiresAt"`
	URL       string  `json:"url,omitempty"`
}

func inviteView(i *store.Invite) inviteJSON {
	v := inviteJSON{ID: i.ID, Role: i.Role.String(), CreatedAt: msTime(i.CreatedAt)}
	if i.ExpiresAt != 0 {
		t := msTime(i.ExpiresAt)
		v.ExpiresAt = &t
	}
	return v
}

func (s *Server) listInvites(ctx *fasthttp.RequestCtx) {
	is, err := s.st.Invites()
	out := struct {
		Items []inviteJSON `json:"items"`
	}{Items: []inviteJSON{}}
	now := time.Now().UnixMilli()
	for _, i := range is {
		if !i.Expired(now) {
			out.Items = append(out.Items, inviteView(i))
		}
	}
	s.answer(ctx, fasthttp.StatusOK, out, err)
}

func (s *Server) apiCreateInvite(ctx *fasthttp.RequestCtx, p principal) {
	var req struct {
		Role string `json:"role"`
	}
	if !readJSON(ctx, &req) {
		return
	}
	v, err := s.createInvite(p, req.Role)
	s.answer(ctx, fasthttp.StatusCreated, v, err)
}

// createInvite makes a one-time sign-up link valid for inviteTTL.
func (s *Server) createInvite(p principal, roleName string) (inviteJSON, error) {
	role := store.RoleUser
	if roleName != "" {
		var ok bool
		if role, ok = store.ParseRole(roleName); !ok {
			return inviteJSON{}, fail(probValidation, "The invite was not created.",
				fieldError{Field: "role", Message: `must be "admin" or "user"`})
		}
	}
	tok := token.Invite()
	now := time.Now()
	c := &fsm.CreateInvite{Now: now.UnixMilli(), Hash: store.TokenHash(tok), ID: token.ID(),
		Role: uint8(role), CreatedBy: p.owner(), ExpiresAt: now.Add(inviteTTL).UnixMilli()}
	if _, err := s.propose(c); err != nil {
		return inviteJSON{}, err
	}
	v := inviteView(&store.Invite{ID: c.ID, Role: role, CreatedAt: c.Now, ExpiresAt: c.ExpiresAt})
	v.URL = s.public + "/app/signup?invite=" + tok
	return v, nil
}

func (s *Server) deleteInvite(id string) error {
	_, err := s.propose(&fsm.DeleteInvite{Now: time.Now().UnixMilli(), ID: id})
	return err
}

// printableText reports whether s has no control characters.
func printableText(s string) bool { return controlFree(s, false) }

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
