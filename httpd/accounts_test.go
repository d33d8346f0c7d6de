package httpd_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/httpd/ratelimit"
)

const pw = "correct horse battery"

// mustStatus fails the test unless r has the wanted status.
func mustStatus(t *testing.T, what string, r httpdtest.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, want, r.Body)
	}
}

func mustDecode[T any](t *testing.T, r httpdtest.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
	return v
}

func mustCreateLink(t *testing.T, n *httpdtest.Node, token, body string) string {
	t.Helper()
	r := n.Do("POST", "/api/v1/links", []byte(body), httpdtest.As(token)...)
	mustStatus(t, "create link", r, http.StatusCreated)
	return mustDecode[struct{ Code string }](t, r).Code
}

func TestUsersAPI(t *testing.T) {
	n := httpdtest.Start(t, "")
	r := n.Do("POST", "/api/v1/users", []byte(`{"email":"Ann@Example.com","password":"`+pw+`"}`))
	mustStatus(t, "create", r, http.StatusCreated)
	u := mustDecode[struct {
		ID   uint64
		Role string
	}](t, r)
	if u.ID < 2 || u.Role != "user" || r.Header.Get("Location") != "/api/v1/users/"+strconv.FormatUint(u.ID, 10) {
		t.Fatalf("created %+v, Location %q", u, r.Header.Get("Location"))
	}
	if strings.Contains(string(r.Body), "argon2") {
		t.Fatal("the password hash leaked into the API")
	}
	mustStatus(t, "same email in other case", n.Do("POST", "/api/v1/users", []byte(`{"email":"ann@example.COM","password":"`+pw+`"}`)), http.StatusConflict)
	for _, bad := range []string{
		`{"email":"not-an-email","password":"` + pw + `"}`,
		`{"email":"Ann <a@b.co>","password":"` + pw + `"}`,
		`{"email":"b@example.com","password":"short"}`,
		`{"email":"b@example.com","password":"` + pw + `","role":"root"}`,
	} {
		mustStatus(t, bad, n.Do("POST", "/api/v1/users", []byte(bad)), http.StatusUnprocessableEntity)
	}
	list := mustDecode[struct{ Items []struct{ Email string } }](t, n.Do("GET", "/api/v1/users", nil))
	if len(list.Items) != 2 || list.Items[1].Email != "Ann@Example.com" {
		t.Fatalf("users: %+v", list.Items)
	}
	id := strconv.FormatUint(u.ID, 10)
	r = n.Do("PATCH", "/api/v1/users/"+id, []byte(`{"role":"admin"}`))
	mustStatus(t, "promote", r, http.StatusOK)
	mustStatus(t, "demote the bootstrap admin", n.Do("PATCH", "/api/v1/users/1", []byte(`{"role":"user"}`)), http.StatusConflict)
	mustStatus(t, "disable the bootstrap admin", n.Do("PATCH", "/api/v1/users/1", []byte(`{"disabled":true}`)), http.StatusConflict)
	mustStatus(t, "delete the bootstrap admin", n.Do("DELETE", "/api/v1/users/1", nil), http.StatusConflict)
	mustStatus(t, "unknown user", n.Do("PATCH", "/api/v1/users/999", []byte(`{"disabled":true}`)), http.StatusNotFound)
	me := mustDecode[struct {
		ID     uint64
		Role   string
		Scopes []string
	}](t, n.Do("GET", "/api/v1/me", nil))
	if me.ID != 1 || me.Role != "admin" || len(me.Scopes) != 7 {
		t.Fatalf("me: %+v", me)
	}
}

// TestIsolation checks every link route, API and console, as another user:
// each answers 404, so a code does not reveal that it exists.
func TestIsolation(t *testing.T) {
	n := httpdtest.Start(t, "")
	consoleA, tokA := n.User(t, "a@example.com", pw)
	consoleB, tokB := n.User(t, "b@example.com", pw)
	codeA := mustCreateLink(t, n, tokA, `{"url":"https://a.example/","tags":["mine"]}`)
	codeB := mustCreateLink(t, n, tokB, `{"url":"https://b.example/"}`)

	for _, rt := range []struct{ method, path, body string }{
		{"GET", "/api/v1/links/" + codeB, ""},
		{"PATCH", "/api/v1/links/" + codeB, `{"title":"x"}`},
		{"DELETE", "/api/v1/links/" + codeB, ""},
		{"GET", "/api/v1/links/" + codeB + "/analytics", ""},
		{"GET", "/api/v1/links/nosuchcode", ""},
	} {
		var body []byte
		if rt.body != "" {
			body = []byte(rt.body)
		}
		r := n.Do(rt.method, rt.path, body, httpdtest.As(tokA)...)
		mustStatus(t, "A: "+rt.method+" "+rt.path, r, http.StatusNotFound)
	}
	list := mustDecode[struct{ Items []struct{ Code string } }](t, n.Do("GET", "/api/v1/links", nil, httpdtest.As(tokA)...))
	if len(list.Items) != 1 || list.Items[0].Code != codeA {
		t.Fatalf("A lists %+v", list.Items)
	}
	for _, p := range []string{"/app/links/" + codeB, "/app/links/" + codeB + "/analytics", "/app/links/" + codeB + "/qr.svg",
		"/app/links/" + codeB + "/qr.png", "/app/links/" + codeB + "/delete", "/app/admin/users", "/app/admin/cluster"} {
		mustStatus(t, "A's console: GET "+p, consoleA.Get(p), http.StatusNotFound)
	}
	consoleA.Get("/app/links")
	for _, p := range []string{"/app/links/" + codeB, "/app/links/" + codeB + "/delete", "/app/admin/users"} {
		mustStatus(t, "A's console: POST "+p, consoleA.Post(p, url.Values{"url": {"https://evil.example/"}}), http.StatusNotFound)
	}
	if r := consoleA.Get("/app/links"); strings.Contains(string(r.Body), codeB) || !strings.Contains(string(r.Body), codeA) {
		t.Fatal("A's link list shows B's link or misses A's")
	}
	// B's link is untouched; B's keys cannot be revoked by A.
	mustStatus(t, "B reads own link", n.Do("GET", "/api/v1/links/"+codeB, nil, httpdtest.As(tokB)...), http.StatusOK)
	keysB := mustDecode[struct{ Items []struct{ ID string } }](t, n.Do("GET", "/api/v1/keys", nil, httpdtest.As(tokB)...))
	mustStatus(t, "A revokes B's key", n.Do("DELETE", "/api/v1/keys/"+keysB.Items[0].ID, nil, httpdtest.As(tokA)...), http.StatusNotFound)
	consoleA.Get("/app/keys")
	mustStatus(t, "A's console revokes B's key", consoleA.Post("/app/keys/"+keysB.Items[0].ID+"/delete", nil), http.StatusNotFound)
	mustStatus(t, "B's key still works", n.Do("GET", "/api/v1/me", nil, httpdtest.As(tokB)...), http.StatusOK)
	// Admins see everything.
	mustStatus(t, "admin reads B's link", n.Do("GET", "/api/v1/links/"+codeB, nil), http.StatusOK)
	mustStatus(t, "B's console shows B's link", consoleB.Get("/app/links/"+codeB), http.StatusOK)
}

func TestKeyScopes(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "k@example.com", pw)
	read := c.NewKey("reader", "links:read")
	mustStatus(t, "read-only key writes", n.Do("POST", "/api/v1/links", []byte(`{"url":"https://x.example/"}`), httpdtest.As(read)...), http.StatusForbidden)
	mustStatus(t, "read-only key reads", n.Do("GET", "/api/v1/links", nil, httpdtest.As(read)...), http.StatusOK)
	mustStatus(t, "read-only key reads analytics", n.Do("GET", "/api/v1/links/abc/analytics", nil, httpdtest.As(read)...), http.StatusForbidden)
	mustStatus(t, "narrow key mints a wider one", n.Do("POST", "/api/v1/keys", []byte(`{"name":"w","scopes":["links:write"]}`), httpdtest.As(read)...), http.StatusForbidden)
	mustStatus(t, "user mints an admin key", n.Do("POST", "/api/v1/keys", []byte(`{"name":"w","scopes":["admin"]}`), httpdtest.As(tok)...), http.StatusForbidden)
	mustStatus(t, "user lists users", n.Do("GET", "/api/v1/users", nil, httpdtest.As(tok)...), http.StatusForbidden)
	mustStatus(t, "user reads cluster", n.Do("GET", "/api/v1/cluster", nil, httpdtest.As(tok)...), http.StatusForbidden)
	mustStatus(t, "unknown scope", n.Do("POST", "/api/v1/keys", []byte(`{"name":"w","scopes":["links:delete"]}`), httpdtest.As(tok)...), http.StatusUnprocessableEntity)
	mustStatus(t, "past expiry", n.Do("POST", "/api/v1/keys", []byte(`{"name":"w","scopes":["links:read"],"expiresAt":"2001-01-01T00:00:00Z"}`), httpdtest.As(tok)...), http.StatusUnprocessableEntity)

	r := n.Do("POST", "/api/v1/keys", []byte(`{"name":"ci","scopes":["links:read","analytics:read"],"expiresAt":"2099-01-01T00:00:00Z"}`), httpdtest.As(tok)...)
	mustStatus(t, "create key", r, http.StatusCreated)
	k := mustDecode[struct {
		ID, Token string
		Scopes    []string
		ExpiresAt *string
	}](t, r)
	if !strings.HasPrefix(k.Token, "lk_") || len(k.Scopes) != 2 || k.ExpiresAt == nil {
		t.Fatalf("key %+v", k)
	}
	list := n.Do("GET", "/api/v1/keys", nil, httpdtest.As(tok)...)
	if strings.Contains(string(list.Body), k.Token) || strings.Contains(string(list.Body), `"token"`) {
		t.Fatal("listing shows a token")
	}
	mustStatus(t, "revoke", n.Do("DELETE", "/api/v1/keys/"+k.ID, nil, httpdtest.As(tok)...), http.StatusNoContent)
	mustStatus(t, "revoked key", n.Do("GET", "/api/v1/me", nil, httpdtest.As(k.Token)...), http.StatusUnauthorized)
	mustStatus(t, "revoke twice", n.Do("DELETE", "/api/v1/keys/"+k.ID, nil, httpdtest.As(tok)...), http.StatusNotFound)
}

func TestDisableAndDeleteUser(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "d@example.com", pw)
	code := mustCreateLink(t, n, tok, `{"url":"https://d.example/"}`)
	me := mustDecode[struct{ ID uint64 }](t, n.Do("GET", "/api/v1/me", nil, httpdtest.As(tok)...))
	id := strconv.FormatUint(me.ID, 10)

	mustStatus(t, "disable", n.Do("PATCH", "/api/v1/users/"+id, []byte(`{"disabled":true}`)), http.StatusOK)
	mustStatus(t, "disabled user's key", n.Do("GET", "/api/v1/me", nil, httpdtest.As(tok)...), http.StatusUnauthorized)
	mustStatus(t, "disabled user's session", c.Get("/app/links"), http.StatusSeeOther)
	fresh := n.NewConsole(t)
	fresh.Get("/app/login")
	mustStatus(t, "disabled user logs in", fresh.Post("/app/login", url.Values{"email": {"d@example.com"}, "password": {pw}}), http.StatusUnauthorized)
	mustStatus(t, "enable", n.Do("PATCH", "/api/v1/users/"+id, []byte(`{"disabled":false}`)), http.StatusOK)
	mustStatus(t, "key works again", n.Do("GET", "/api/v1/me", nil, httpdtest.As(tok)...), http.StatusOK)

	mustStatus(t, "delete", n.Do("DELETE", "/api/v1/users/"+id, nil), http.StatusNoContent)
	mustStatus(t, "deleted user's key", n.Do("GET", "/api/v1/me", nil, httpdtest.As(tok)...), http.StatusUnauthorized)
	mustStatus(t, "deleted user's link redirects", n.Do("GET", "/"+code, nil), http.StatusGone)
	mustStatus(t, "deleted user's link via admin", n.Do("GET", "/api/v1/links/"+code, nil), http.StatusGone)
	mustStatus(t, "delete again", n.Do("DELETE", "/api/v1/users/"+id, nil), http.StatusNotFound)
	// The email is free again.
	mustStatus(t, "re-register", n.Do("POST", "/api/v1/users", []byte(`{"email":"d@example.com","password":"`+pw+`"}`)), http.StatusCreated)
}

func TestCSRF(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, _ := n.User(t, "c@example.com", pw)
	c.Get("/app/links")
	form := url.Values{"url": {"https://c.example/"}}
	for name, f := range map[string]url.Values{
		"no token":    form,
		"wrong token": {"url": form["url"], "csrf": {"AAAA"}},
	} {
		if name == "no token" {
			f = url.Values{"url": form["url"], "csrf": {""}}
		}
		mustStatus(t, name, c.Post("/app/links", f), http.StatusForbidden)
	}
	mustStatus(t, "logout without token", c.Post("/app/logout", url.Values{"csrf": {""}}), http.StatusForbidden)
	mustStatus(t, "still logged in", c.Get("/app/links"), http.StatusOK)
	if r := c.Post("/app/links", form); r.Status != http.StatusSeeOther {
		t.Fatalf("with the token: %d %s", r.Status, r.Body)
	}
	// A token from another session is refused.
	other, _ := n.User(t, "o@example.com", pw)
	other.Get("/app/links")
	mustStatus(t, "another session's token", c.Post("/app/links", url.Values{"url": form["url"], "csrf": {other.CSRF()}}), http.StatusForbidden)
	mustStatus(t, "logout", c.Post("/app/logout", nil), http.StatusSeeOther)
	mustStatus(t, "logged out", c.Get("/app/links"), http.StatusSeeOther)
}

func TestRegistrationModes(t *testing.T) {
	for _, mode := range []httpd.Registration{httpd.RegistrationOpen, httpd.RegistrationInvite, httpd.RegistrationClosed} {
		t.Run(string(mode), func(t *testing.T) {
			n := httpdtest.StartWith(t, httpdtest.Options{Registration: mode})
			c := n.NewConsole(t)
			c.Get("/app/signup")
			r := c.Post("/app/signup", url.Values{"email": {"new@example.com"}, "password": {pw}})
			want := http.StatusForbidden
			if mode == httpd.RegistrationOpen {
				want = http.StatusSeeOther
			}
			mustStatus(t, "sign up without invite", r, want)

			inv := mustDecode[struct{ URL string }](t, n.Do("POST", "/api/v1/invites", []byte(`{"role":"user"}`)))
			token := inv.URL[strings.Index(inv.URL, "invite=")+len("invite="):]
			c2 := n.NewConsole(t)
			c2.Get("/app/signup?invite=" + token)
			mustStatus(t, "sign up with invite", c2.Post("/app/signup", url.Values{"email": {"inv@example.com"}, "password": {pw}, "invite": {token}}), http.StatusSeeOther)
			mustStatus(t, "signed in", c2.Get("/app/links"), http.StatusOK)
			c3 := n.NewConsole(t)
			c3.Get("/app/signup")
			mustStatus(t, "invite used twice", c3.Post("/app/signup", url.Values{"email": {"inv2@example.com"}, "password": {pw}, "invite": {token}}), http.StatusForbidden)
		})
	}
}

func TestAdminInviteClaimsBootstrapAdmin(t *testing.T) {
	n := httpdtest.Start(t, "")
	c := n.NewConsole(t)
	inv := n.AdminInvite()
	c.Get("/app/signup?invite=" + inv)
	mustStatus(t, "claim", c.Post("/app/signup", url.Values{"email": {"root@example.com"}, "password": {pw}, "invite": {inv}}), http.StatusSeeOther)
	mustStatus(t, "admin pages", c.Get("/app/admin/users"), http.StatusOK)
	users := mustDecode[struct {
		Items []struct {
			ID    uint64
			Email string
			Role  string
		}
	}](t, n.Do("GET", "/api/v1/users", nil))
	if len(users.Items) != 1 || users.Items[0].ID != 1 || users.Items[0].Email != "root@example.com" || users.Items[0].Role != "admin" {
		t.Fatalf("users after the claim: %+v", users.Items)
	}
}

func TestWriteRateLimit(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{WritesPerKey: ratelimit.Limit{Rate: 0.01, Burst: 3}}})
	_, tok := n.User(t, "r@example.com", pw)
	for i := 0; i < 3; i++ {
		r := n.Do("POST", "/api/v1/links", []byte(`{"url":"https://r.example/"}`), httpdtest.As(tok)...)
		mustStatus(t, "within budget", r, http.StatusCreated)
		if r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) || r.Header.Get("RateLimit-Reset") == "" {
			t.Fatalf("headers %v", r.Header)
		}
	}
	r := n.Do("POST", "/api/v1/links", []byte(`{"url":"https://r.example/"}`), httpdtest.As(tok)...)
	mustStatus(t, "over budget", r, http.StatusTooManyRequests)
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 1 || ra > 101 || r.Header.Get("Content-Type") != "application/problem+json" ||
		r.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers %v", r.Header)
	}
	mustStatus(t, "reads are not limited", n.Do("GET", "/api/v1/links", nil, httpdtest.As(tok)...), http.StatusOK)
	mustStatus(t, "admins are not limited", n.Do("POST", "/api/v1/links", []byte(`{"url":"https://r.example/"}`)), http.StatusCreated)
}

func TestLoginThrottle(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{LoginsPerEmail: ratelimit.PerMinute(1, 3)}})
	n.User(t, "t@example.com", pw) // one login spent
	c := n.NewConsole(t)
	c.Get("/app/login")
	for i := 0; i < 2; i++ {
		mustStatus(t, "wrong password", c.Post("/app/login", url.Values{"email": {"t@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	}
	r := c.Post("/app/login", url.Values{"email": {"T@example.com"}, "password": {pw}})
	mustStatus(t, "throttled even with the right password", r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "Too many attempts") {
		t.Fatalf("throttle page: %v %s", r.Header, r.Body)
	}
	mustStatus(t, "other accounts are not throttled", c.Post("/app/login", url.Values{"email": {"nobody@example.com"}, "password": {pw}}), http.StatusUnauthorized)
}

func TestRedirectRateLimit(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{RedirectsPerIP: ratelimit.Limit{Rate: 0.01, Burst: 5}}})
	code := mustCreateLink(t, n, httpdtest.Token, `{"url":"https://rl.example/"}`)
	for i := 0; i < 5; i++ {
		mustStatus(t, fmt.Sprint("redirect ", i), n.Do("GET", "/"+code, nil), http.StatusFound)
	}
	r := n.Do("GET", "/"+code, nil)
	mustStatus(t, "over budget", r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// Behind a trusted proxy (loopback is one in tests) each client has its own budget.
	mustStatus(t, "another client", n.Do("GET", "/"+code, nil, "X-Forwarded-For", "203.0.113.9"), http.StatusFound)
}
