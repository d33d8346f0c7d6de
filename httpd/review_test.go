package httpd_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// --review-new-users over HTTP: a new user's link answers a "pending
// review" page (403, no redirect) and is listed in the queue (API and
// console); an admin approves one in the console (it redirects) and
// rejects one through the API (451); both decisions are audited; bad
// decisions change nothing; admins' own links are never held.
func TestReviewNewUsers(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{ReviewNewUsers: time.Hour})
	_, tok := n.User(t, "new@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	a := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://new-user.test/a"}`), as...), 201).Code
	b := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://new-user.test/b"}`), as...), 201).Code
	admin := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://admin.test/"}`)), 201).Code
	mustStatusIs(t, "admin link", n.Do("GET", "/"+admin, nil), 302)
	for _, code := range []string{a, b, a + "+"} {
		r := n.Do("GET", "/"+code, nil)
		if r.Status != http.StatusForbidden || r.Header.Get("Location") != "" || !strings.Contains(string(r.Body), "Pending review") {
			t.Fatalf("%s while held: %d %q", code, r.Status, r.Header.Get("Location"))
		}
	}
	if r := n.Do("GET", "/api/v1/links/"+a, nil, as...); !strings.Contains(string(r.Body), `"status":"held"`) {
		t.Fatalf("owner's view: %s", r.Body)
	}
	q := mustJSON[struct{ Items []struct{ Code string } }](t, n.Do("GET", "/api/v1/review", nil), 200)
	if len(q.Items) != 2 {
		t.Fatalf("queue %+v", q)
	}
	if r := n.Do("GET", "/api/v1/review", nil, as...); r.Status == 200 {
		t.Fatal("a user reads the review queue")
	}
	mustStatusIs(t, "bad action", n.Do("POST", "/api/v1/review/"+b, []byte(`{"action":"maybe"}`)), 422)
	mustStatusIs(t, "not held", n.Do("POST", "/api/v1/review/"+admin, []byte(`{"action":"approve"}`)), 404)

	mustStatusIs(t, "admin console user", n.Do("POST", "/api/v1/users", []byte(`{"email":"mod@x.test","password":"correct horse battery","role":"admin"}`)), 201)
	c := n.NewConsole(t)
	c.Login("mod@x.test", "correct horse battery")
	page := string(c.Get("/app/admin/moderation").Body)
	if !strings.Contains(page, "/app/admin/review/"+a) || !strings.Contains(page, "new-user.test/b") {
		t.Fatalf("console queue: %s", page)
	}
	mustStatusIs(t, "approve", c.Post("/app/admin/review/"+a, url.Values{"action": {"approve"}}), http.StatusSeeOther)
	mustStatusIs(t, "approved", n.Do("GET", "/"+a, nil), 302)
	mustStatusIs(t, "reject", n.Do("POST", "/api/v1/review/"+b, []byte(`{"action":"reject","reason":"spam"}`)), 204)
	if r := n.Do("GET", "/"+b, nil); r.Status != 451 || !strings.Contains(string(r.Body), "Rejected in review: spam") {
		t.Fatalf("rejected: %d %s", r.Status, r.Body)
	}
	audit := string(n.Do("GET", "/api/v1/audit", nil).Body)
	if !strings.Contains(audit, "review.approve") || !strings.Contains(audit, "review.reject") {
		t.Fatalf("audit %s", audit)
	}
	if q := mustJSON[struct{ Items []struct{ Code string } }](t, n.Do("GET", "/api/v1/review", nil), 200); len(q.Items) != 0 {
		t.Fatalf("queue after decisions %+v", q)
	}
}
