package httpd_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// The console's domain pages: an admin adds a domain and delegates it by
// email; the delegate gets a domain picker, creates a link on it, filters
// the list by it and opens the link's page; another user sees no picker
// and cannot use the domain by posting the form anyway.
func TestDomainsConsole(t *testing.T) {
	n := httpdtest.Start(t, "")
	mustStatusIs(t, "admin user", n.Do("POST", "/api/v1/users", []byte(`{"email":"root@x.test","password":"correct horse battery","role":"admin"}`)), 201)
	admin := n.NewConsole(t)
	admin.Login("root@x.test", "correct horse battery")
	alice, _ := n.User(t, "alice@x.test", "correct horse battery")
	bob, _ := n.User(t, "bob@x.test", "correct horse battery")

	if r := admin.Get("/app/admin/domains"); r.Status != 200 || !strings.Contains(string(r.Body), "No domains yet") {
		t.Fatalf("domains page: %d", r.Status)
	}
	r := admin.Post("/app/admin/domains", url.Values{"host": {"bad host"}, "kind": {"links"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "host name") {
		t.Fatalf("bad host: %d %s", r.Status, r.Body)
	}
	mustStatusIs(t, "add", admin.Post("/app/admin/domains", url.Values{"host": {"Go.Example"}, "kind": {"links"},
		"delegate": {"alice@x.test"}, "rootUrl": {"https://home.test/"}}), http.StatusSeeOther)
	if r := admin.Get("/app/admin/domains"); !strings.Contains(string(r.Body), "go.example") || !strings.Contains(string(r.Body), "alice@x.test") {
		t.Fatalf("domain not listed with its delegate: %s", r.Body)
	}

	page := alice.Get("/app/links")
	if !strings.Contains(string(page.Body), `<option value="go.example"`) {
		t.Fatalf("alice has no domain picker")
	}
	r = alice.Post("/app/links", url.Values{"url": {"https://alice.test/"}, "alias": {"alidom"}, "domain": {"go.example"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/app/links/alidom?done=created&domain=go.example" {
		t.Fatalf("create on the domain: %d %q", r.Status, r.Header.Get("Location"))
	}
	if r := alice.Get("/app/links/alidom?domain=go.example"); r.Status != 200 || !strings.Contains(string(r.Body), "http://go.example/alidom") {
		t.Fatalf("link page: %d", r.Status)
	}
	list := alice.Get("/app/links?domain=go.example")
	if !strings.Contains(string(list.Body), `href="/app/links/alidom?domain=go.example"`) {
		t.Fatalf("filtered list lacks the link: %s", list.Body)
	}
	if r := n.Do("GET", "/alidom", nil, "Host", "go.example"); r.Status != 302 {
		t.Fatalf("redirect: %d", r.Status)
	}

	if strings.Contains(string(bob.Get("/app/links").Body), "go.example") {
		t.Fatalf("bob sees alice's domain")
	}
	r = bob.Post("/app/links", url.Values{"url": {"https://bob.test/"}, "alias": {"bobdom"}, "domain": {"go.example"}})
	if r.Status != http.StatusForbidden && r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bob's create on alice's domain: %d", r.Status)
	}
	mustStatusIs(t, "nothing created", n.Do("GET", "/bobdom", nil, "Host", "go.example"), 404)
	mustStatusIs(t, "bob has no admin page", bob.Get("/app/admin/domains"), 404)

	mustStatusIs(t, "delete", admin.Post("/app/admin/domains/go.example/delete", nil), http.StatusSeeOther)
	mustStatusIs(t, "gone", n.Do("GET", "/alidom", nil, "Host", "go.example"), 404)
}
