package httpd_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/store"
)

// userID returns the id of the user behind tok.
func userID(t *testing.T, n *httpdtest.Node, tok string) string {
	t.Helper()
	me := mustJSON[struct{ ID uint64 }](t, n.Do("GET", "/api/v1/me", nil, httpdtest.As(tok)...), 200)
	return strconv.FormatUint(me.ID, 10)
}

// A per-user quota override over HTTP: at and past the override (429
// daily-link-quota with Retry-After), lifted by "unlimited", back to the
// server default with null; bad input is 422 and changes nothing; only
// admins read or change it; it is audited.
func TestUserQuotaOverrideOverHTTP(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{UserDailyLinks: 3})
	_, tok := n.User(t, "q@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	path := "/api/v1/users/" + userID(t, n, tok) + "/trust"
	create := func(i int) httpdtest.Response {
		return n.Do("POST", "/api/v1/links", []byte(`{"url":"https://q.test/`+strconv.Itoa(i)+`"}`), as...)
	}
	tr := mustJSON[map[string]any](t, n.Do("GET", path, nil), 200)
	if tr["dailyLinks"] != nil || tr["defaultDailyLinks"] != 3.0 || tr["approved"] != false {
		t.Fatalf("defaults: %v", tr)
	}
	for _, body := range []string{`{}`, `{"dailyLinks":-1}`, `{"dailyLinks":1.5}`, `{"dailyLinks":"lots"}`,
		`{"dailyLinks":2000000}`, `{"releaseHeld":true}`, `{"approved":"yes"}`} {
		mustStatusIs(t, body, n.Do("PATCH", path, []byte(body)), 422)
	}
	mustStatusIs(t, "no such user", n.Do("PATCH", "/api/v1/users/999/trust", []byte(`{"dailyLinks":1}`)), 404)
	mustStatusIs(t, "a user", n.Do("PATCH", path, []byte(`{"dailyLinks":100}`), as...), 403)
	if tr := mustJSON[map[string]any](t, n.Do("GET", path, nil), 200); tr["dailyLinks"] != nil {
		t.Fatalf("bad input changed the override: %v", tr)
	}

	tr = mustJSON[map[string]any](t, n.Do("PATCH", path, []byte(`{"dailyLinks":1}`)), 200)
	if tr["dailyLinks"] != 1.0 || tr["updatedBy"] != 1.0 || tr["updatedAt"] == nil {
		t.Fatalf("override: %v", tr)
	}
	mustStatusIs(t, "at the override", create(0), 201)
	r := create(1)
	mustStatusIs(t, "past the override", r, 429)
	if !strings.Contains(string(r.Body), "daily-link-quota") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("past the override: %s %s", r.Header, r.Body)
	}
	mustJSON[map[string]any](t, n.Do("PATCH", path, []byte(`{"dailyLinks":"unlimited"}`)), 200)
	for i := 2; i < 7; i++ { // past the server default too
		mustStatusIs(t, "unlimited", create(i), 201)
	}
	if tr := mustJSON[map[string]any](t, n.Do("PATCH", path, []byte(`{"dailyLinks":null}`)), 200); tr["dailyLinks"] != nil {
		t.Fatalf("back to the default: %v", tr)
	}
	mustStatusIs(t, "default: 1 counted, 2 left", create(7), 201)
	mustStatusIs(t, "default: 1 left", create(8), 201)
	mustStatusIs(t, "past the default", create(9), 429)
	audit := string(n.Do("GET", "/api/v1/audit", nil).Body)
	for _, want := range []string{`"user.quota"`, "daily links: 1", "daily links: unlimited", "daily links: default"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s: %s", want, audit)
		}
	}
}

// Approving a user over HTTP: with --review-new-users their held short
// and profile links are released with releaseHeld; later links are not
// held; un-approving holds again. A held profile link is missing from the
// public page and profile API (not from the owner's view) until approved,
// and approving it queues a purge of the page.
func TestApproveUserOverHTTP(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{ReviewNewUsers: time.Hour})
	owner, tok := n.User(t, "new@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	path := "/api/v1/users/" + userID(t, n, tok) + "/trust"
	held := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://new.test/a"}`), as...), 201).Code
	p := mustPutProfile(t, n, tok, `{"handle":"newbie","theme":"mint","links":[{"title":"Shop","url":"https://shop.test/"},{"title":"Blog","url":"https://blog.test/"}]}`)
	shop, blog := p.Links[0].Code, p.Links[1].Code
	if len(p.Links) != 2 {
		t.Fatalf("owner's view after saving: %+v", p)
	}
	for _, code := range []string{held, shop, blog} {
		mustStatusIs(t, "held "+code, n.Do("GET", "/"+code, nil), http.StatusForbidden)
	}
	hidden := func(what string, titles ...string) {
		t.Helper()
		page := string(n.Do("GET", "/@newbie", nil).Body)
		api := string(n.Do("GET", "/api/v1/profiles/newbie", nil).Body)
		for _, title := range titles {
			if strings.Contains(page, title) || strings.Contains(api, title) {
				t.Fatalf("%s: %s is public\n%s\n%s", what, title, page, api)
			}
		}
	}
	shown := func(what string, titles ...string) {
		t.Helper()
		page := string(n.Do("GET", "/@newbie", nil).Body)
		api := string(n.Do("GET", "/api/v1/profiles/newbie", nil).Body)
		for _, title := range titles {
			if !strings.Contains(page, title) || !strings.Contains(api, title) {
				t.Fatalf("%s: %s is not public\n%s\n%s", what, title, page, api)
			}
		}
	}
	hidden("held", "Shop", "shop.test", "Blog")
	if own := string(n.Do("GET", "/api/v1/profile", nil, as...).Body); strings.Count(own, `"held":true`) != 2 {
		t.Fatalf("the owner's view does not mark both held links: %s", own)
	}
	if page := string(owner.Get("/app/profile").Body); !strings.Contains(page, "awaiting review") {
		t.Fatal("the profile editor does not mark held links")
	}
	queue := string(n.Do("GET", "/api/v1/review", nil).Body)
	for _, code := range []string{held, shop, blog} {
		if !strings.Contains(queue, `"`+code+`"`) {
			t.Fatalf("queue lacks %s: %s", code, queue)
		}
	}

	// One profile link approved from the queue: on the page, purged.
	before := profilePurges(t, n, "newbie")
	mustStatusIs(t, "approve shop", n.Do("POST", "/api/v1/review/"+shop, []byte(`{"action":"approve"}`)), 204)
	shown("approved", "Shop")
	hidden("still held", "Blog")
	if got := profilePurges(t, n, "newbie"); got != before+1 {
		t.Fatalf("approving a profile link queued %d page purges, want 1", got-before)
	}

	// The user approved with releaseHeld: the rest is released.
	tr := mustJSON[map[string]any](t, n.Do("PATCH", path, []byte(`{"approved":true,"releaseHeld":true}`)), 200)
	if tr["approved"] != true {
		t.Fatalf("approve: %v", tr)
	}
	shown("released", "Shop", "Blog")
	if own := string(n.Do("GET", "/api/v1/profile", nil, as...).Body); strings.Contains(own, `"held"`) {
		t.Fatalf("released links still marked held: %s", own)
	}
	mustStatusIs(t, "released link", n.Do("GET", "/"+held, nil), http.StatusFound)
	if q := mustJSON[struct{ Items []struct{ Code string } }](t, n.Do("GET", "/api/v1/review", nil), 200); len(q.Items) != 0 {
		t.Fatalf("queue after releasing: %+v", q)
	}
	later := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://new.test/b"}`), as...), 201).Code
	mustStatusIs(t, "approved user's new link", n.Do("GET", "/"+later, nil), http.StatusFound)

	mustJSON[map[string]any](t, n.Do("PATCH", path, []byte(`{"approved":false}`)), 200)
	again := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://new.test/c"}`), as...), 201).Code
	mustStatusIs(t, "held again", n.Do("GET", "/"+again, nil), http.StatusForbidden)
	audit := string(n.Do("GET", "/api/v1/audit", nil).Body)
	for _, want := range []string{`"user.approve"`, `"user.unapprove"`, "approved with its owner"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

// profilePurges counts the node's queued purges of handle's profile page.
func profilePurges(t *testing.T, n *httpdtest.Node, handle string) int {
	t.Helper()
	_, cs, err := n.Node.Store().Purges(10000)
	if err != nil {
		t.Fatal(err)
	}
	c := 0
	for _, ch := range cs {
		if ch.Kind == store.ChangeProfile && ch.Handle == handle {
			c++
		}
	}
	return c
}

// The console: the users page shows and sets the quota override and the
// approval (bad input is a readable error and changes nothing); the
// review queue approves a held link's owner with all their held links.
func TestTrustConsole(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{UserDailyLinks: 3, ReviewNewUsers: time.Hour})
	_, tok := n.User(t, "new@x.test", "correct horse battery")
	uid := userID(t, n, tok)
	held := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://new.test/a"}`), httpdtest.As(tok)...), 201).Code
	mustStatusIs(t, "admin console user", n.Do("POST", "/api/v1/users", []byte(`{"email":"mod@x.test","password":"correct horse battery","role":"admin"}`)), 201)
	c := n.NewConsole(t)
	c.Login("mod@x.test", "correct horse battery")
	page := string(c.Get("/app/admin/users").Body)
	if !strings.Contains(page, "/app/admin/users/"+uid+"/trust") || !strings.Contains(page, "default (3)") {
		t.Fatalf("users page: %s", page)
	}
	if r := c.Post("/app/admin/users/"+uid+"/trust", map[string][]string{"dailyLinks": {"lots"}}); r.Status != 422 ||
		!strings.Contains(string(r.Body), "whole number") {
		t.Fatalf("bad quota: %d %s", r.Status, r.Body)
	}
	mustStatusIs(t, "set quota", c.Post("/app/admin/users/"+uid+"/trust", map[string][]string{"dailyLinks": {"12"}}), http.StatusSeeOther)
	if page := string(c.Get("/app/admin/users").Body); !strings.Contains(page, `value="12"`) {
		t.Fatalf("users page after setting 12: %s", page)
	}
	mustStatusIs(t, "quota back to default", c.Post("/app/admin/users/"+uid+"/trust", map[string][]string{"dailyLinks": {""}}), http.StatusSeeOther)
	if tr := mustJSON[map[string]any](t, n.Do("GET", "/api/v1/users/"+uid+"/trust", nil), 200); tr["dailyLinks"] != nil {
		t.Fatalf("emptied quota field: %v", tr)
	}

	queue := string(c.Get("/app/admin/moderation").Body)
	if !strings.Contains(queue, "Approve this user") {
		t.Fatalf("review queue has no approve-user button: %s", queue)
	}
	mustStatusIs(t, "approve user", c.Post("/app/admin/users/"+uid+"/trust", map[string][]string{"approved": {"true"},
		"release": {"1"}, "back": {"moderation"}}), http.StatusSeeOther)
	mustStatusIs(t, "released", n.Do("GET", "/"+held, nil), http.StatusFound)
	if page := string(c.Get("/app/admin/users").Body); !strings.Contains(page, "approved") || !strings.Contains(page, "Withdraw approval") {
		t.Fatalf("users page after approving: %s", page)
	}
}
