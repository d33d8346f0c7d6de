package httpd_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/httpd/httpx"
)

// --user-daily-links over HTTP: a user's creates at and past the limit
// (429 daily-link-quota with Retry-After to the next UTC day, nothing
// created), a bulk create and an import counting each item, the console's
// form answer (the message, on the re-shown form), and admins exempt.
func TestUserDailyLinkQuota(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{UserDailyLinks: 3})
	c, tok := n.User(t, "q@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	for i := range 2 {
		mustStatusIs(t, "create "+strconv.Itoa(i), n.Do("POST", "/api/v1/links", []byte(`{"url":"https://q.test/`+strconv.Itoa(i)+`"}`), as...), 201)
	}
	// A bulk of two at one left: the first item is created, the second
	// answers 429.
	bulk := n.Do("POST", "/api/v1/links/bulk", []byte(`{"links":[{"url":"https://q.test/b1"},{"url":"https://q.test/b2"}]}`), as...)
	var ans struct {
		Items []struct {
			Status  int
			Problem struct{ Type string }
		}
	}
	if err := json.Unmarshal(bulk.Body, &ans); err != nil || len(ans.Items) != 2 || ans.Items[0].Status != 201 ||
		ans.Items[1].Status != 429 || ans.Items[1].Problem.Type != "/_/problems/daily-link-quota" {
		t.Fatalf("bulk at the limit: %d %s", bulk.Status, bulk.Body)
	}
	r := n.Do("POST", "/api/v1/links", []byte(`{"url":"https://q.test/over"}`), as...)
	mustStatusIs(t, "past the limit", r, 429)
	if !strings.Contains(string(r.Body), `"type":"/_/problems/daily-link-quota"`) ||
		r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("problem: %s %s", r.Header, r.Body)
	}
	wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if want := httpx.UntilNextUTCDay(time.Now()); err != nil || wait < want-5 || wait > want {
		t.Fatalf("Retry-After %q, want about %d", r.Header.Get("Retry-After"), want)
	}
	imp := n.Do("POST", "/api/v1/imports?from=csv", []byte("url\nhttps://q.test/i1\n"), append(as, "Content-Type", "text/csv")...)
	if !strings.Contains(string(imp.Body), "daily") {
		t.Fatalf("import past the limit: %d %s", imp.Status, imp.Body)
	}
	c.Get("/app/links")
	if page := c.Post("/app/links", map[string][]string{"url": {"https://q.test/console"}}); page.Status < 400 ||
		!strings.Contains(string(page.Body), "as many links today") {
		t.Fatalf("console past the limit: %d %s", page.Status, page.Body)
	}
	list := n.Do("GET", "/api/v1/links", nil, as...)
	if got := strings.Count(string(list.Body), `"url":"https://q.test/`); got != 3 {
		t.Fatalf("%d links created, want 3: %s", got, list.Body)
	}
	// Admins are exempt.
	for i := range 4 {
		mustStatusIs(t, "admin create", n.Do("POST", "/api/v1/links", []byte(`{"url":"https://admin.test/`+strconv.Itoa(i)+`"}`)), 201)
	}
}
