package httpd

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/store"
)

// scope is one permission an API key can carry.
type scope uint8

// Scopes. A console session holds every scope of its user's role.
const (
	scopeLinksRead scope = 1 << iota
	scopeLinksWrite
	scopeAnalyticsRead
	scopeProfileWrite
	scopeAdmin

	scopesUser = scopeLinksRead | scopeLinksWrite | scopeAnalyticsRead | scopeProfileWrite
	scopesAll  = scopesUser | scopeAdmin
)

// scopeNames are the API names of the scopes, in display order.
var scopeNames = []struct {
	s    scope
	name string
	help string
}{
	{scopeLinksRead, "links:read", "list and read links"},
	{scopeLinksWrite, "links:write", "create, change and delete links"},
	{scopeAnalyticsRead, "analytics:read", "read click analytics"},
	{scopeProfileWrite, "profile:write", "edit the link-in-bio profile"},
	{scopeAdmin, "admin", "everything, for every user (admins only)"},
}

// parseScopes turns API names into a set; unknown names are an error.
func parseScopes(names []string) (scope, error) {
	var set scope
	for _, n := range names {
		found := false
		for _, sn := range scopeNames {
			if sn.name == n {
				set, found = set|sn.s, true
			}
		}
		if !found {
			return 0, errors.New("unknown scope " + quote(n) + "; known: " + strings.Join(scopeList(scopesAll), ", "))
		}
	}
	return set, nil
}

// scopeList returns the API names of a set.
func scopeList(set scope) []string {
	out := []string{}
	for _, sn := range scopeNames {
		if set&sn.s != 0 {
			out = append(out, sn.name)
		}
	}
	return out
}

// roleScopes is the most a user of role r may do; keys are clipped to it
// when used, so demoting a user takes effect on their keys at once.
func roleScopes(r store.Role) scope {
	if r == store.RoleAdmin {
		return scopesAll
	}
	return scopesUser
}

// effective is what a key may do for its user now.
func effective(key scope, u *store.User) scope {
	if key&scopeAdmin != 0 {
		key = scopesAll
	}
	return key & roleScopes(u.Role)
}

// principal is who a request acts for: a user through an API key or a
// console session.
type principal struct {
	user   *store.User
	key    *store.APIKey // nil for a console session
	scopes scope
}

func (p principal) owner() uint64     { return p.user.ID }
func (p principal) can(sc scope) bool { return p.scopes&sc == sc }
func (p principal) isAdmin() bool     { return p.can(scopeAdmin) }

// limiterKey names the write budget the principal spends: its API key's,
// or its user's for console sessions.
func (p principal) limiterKey() string {
	if p.key == nil {
		return "user:" + strconv.FormatUint(p.user.ID, 10)
	}
	return "key:" + p.key.ID
}

// errUnauthorized explains why a credential was refused.
var errUnauthorized = errors.New("the credential is not valid")

// principalForToken resolves an API token: the key must exist and not have
// expired, and its user must exist and be enabled.
func (s *Server) principalForToken(token string, now time.Time) (principal, error) {
	k, err := s.st.APIKey(store.TokenHash(token))
	if err == nil && k.ExpiresAt != 0 && now.UnixMilli() >= k.ExpiresAt {
		err = store.ErrNotFound
	}
	if err != nil {
		return principal{}, lookupErr(err)
	}
	u, err := s.enabledUser(k.Owner)
	if err != nil {
		return principal{}, err
	}
	set, err := parseScopes(k.Scopes)
	if err != nil {
		return principal{}, errUnauthorized // a scope this version does not know
	}
	return principal{user: u, key: k, scopes: effective(set, u)}, nil
}

// enabledUser loads a user that exists and is not disabled.
func (s *Server) enabledUser(id uint64) (*store.User, error) {
	u, err := s.st.User(id)
	if err != nil {
		return nil, lookupErr(err)
	}
	if u.Disabled {
		return nil, errUnauthorized
	}
	return u, nil
}

// lookupErr maps a missing record to errUnauthorized and keeps real errors.
func lookupErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errUnauthorized
	}
	return err
}

// authenticate resolves the bearer token, answering 401 itself on failure.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (principal, bool) {
	token, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		writeProblem(ctx, probUnauthorized, "No bearer token was sent.")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd"`)
		return principal{}, false
	}
	p, err := s.principalForToken(strings.TrimSpace(token), time.Now())
	if err != nil {
		if !errors.Is(err, errUnauthorized) {
			s.log.Error("looking up API key", "err", err)
		}
		writeProblem(ctx, probUnauthorized, "The bearer token is not valid, has expired or belongs to a disabled account.")
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd", error="invalid_token"`)
		return principal{}, false
	}
	return p, true
}

func quote(s string) string { return `"` + s + `"` }
