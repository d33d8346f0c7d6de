package httpd_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/node/feeds"
)

type apiFeed struct {
	ID, Name, Format, Error, CheckedAt, UpdatedAt string
	Entries                                       int
	IntervalSeconds                               int
}

// waitFeed polls GET /feeds until cond holds for the one feed.
func waitFeed(t *testing.T, n *httpdtest.Node, what string, cond func(apiFeed) bool) apiFeed {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		fs := mustJSON[struct{ Items []apiFeed }](t, n.Do("GET", "/api/v1/feeds", nil), 200).Items
		if len(fs) == 1 && cond(fs[0]) {
			return fs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: feeds %+v", what, fs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Feeds over the API and the console: validation (422, nothing added),
// admins only, a URLhaus feed taking a link down, a failing fetch shown
// with its error on the console while the last good list stays, and
// removal from the console.
func TestFeedsAPIAndConsole(t *testing.T) {
	var mu sync.Mutex
	body, failing := "# URLhaus\n\"1\",\"2024-01-01\",\"http://mal.test/x.exe\",\"online\",\"\",\"malware\",\"\",\"\",\"r\"\n", false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	n := httpdtest.StartWith(t, httpdtest.Options{Feeds: feeds.Limits{AllowPrivate: true}, FeedMinInterval: time.Second})
	code := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://mal.test/x.exe?dl=1"}`)), 201).Code
	other := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://mal.test/y"}`)), 201).Code

	for name, b := range map[string]string{
		"format":   `{"name":"x","url":"http://f.test/","format":"csv"}`,
		"url":      `{"name":"x","url":"ftp://f.test/","format":"list"}`,
		"creds":    `{"name":"x","url":"http://u:p@f.test/","format":"list"}`,
		"name":     `{"url":"http://f.test/","format":"list"}`,
		"interval": `{"name":"x","url":"http://f.test/","format":"list","intervalSeconds":700000}`,
	} {
		mustStatusIs(t, name, n.Do("POST", "/api/v1/feeds", []byte(b)), 422)
	}
	plain, _ := n.User(t, "plain@x.test", "correct horse battery")
	userKey := plain.NewKey("k", "links:write")
	if r := n.Do("GET", "/api/v1/feeds", nil, httpdtest.As(userKey)...); r.Status == 200 {
		t.Fatalf("a user lists feeds: %d", r.Status)
	}
	if r := n.Do("POST", "/api/v1/feeds", []byte(`{"name":"x","url":"http://f.test/","format":"list"}`), httpdtest.As(userKey)...); r.Status != 403 && r.Status != 404 {
		t.Fatalf("a user adds a feed: %d", r.Status)
	}
	mustJSON[struct{ Items []apiFeed }](t, n.Do("GET", "/api/v1/feeds", nil), 200)

	mustStatusIs(t, "add", n.Do("POST", "/api/v1/feeds", []byte(`{"name":"urlhaus","url":"`+srv.URL+`/u.csv","format":"urlhaus","intervalSeconds":1}`)), 201)
	waitFeed(t, n, "first version", func(f apiFeed) bool { return f.Entries == 1 && f.UpdatedAt != "" })
	mustStatusIs(t, "listed", n.Do("GET", "/"+code, nil), 451)
	mustStatusIs(t, "not listed", n.Do("GET", "/"+other, nil), 302)
	if r := n.Do("GET", "/api/v1/links/"+code+"/takedown", nil); !strings.Contains(string(r.Body), `threat feed \"urlhaus\"`) {
		t.Fatalf("takedown reason: %s", r.Body)
	}

	mu.Lock()
	failing = true
	mu.Unlock()
	f := waitFeed(t, n, "the failure", func(f apiFeed) bool { return strings.Contains(f.Error, "503") })
	if f.Entries != 1 {
		t.Fatalf("last good list lost: %+v", f)
	}
	mustStatusIs(t, "still listed", n.Do("GET", "/"+code, nil), 451)
	c := n.NewConsole(t)
	mustStatusIs(t, "admin console user", n.Do("POST", "/api/v1/users", []byte(`{"email":"mod@x.test","password":"correct horse battery","role":"admin"}`)), 201)
	c.Login("mod@x.test", "correct horse battery")
	page := string(c.Get("/app/admin/moderation").Body)
	if !strings.Contains(page, "urlhaus") || !strings.Contains(page, "503") || !strings.Contains(page, "last good list kept") {
		t.Fatalf("console feeds: %s", page)
	}
	mustStatusIs(t, "console bad feed", c.Post("/app/admin/feeds", url.Values{"name": {"x"}, "url": {"gopher://x"}, "format": {"list"}}), 422)
	mustStatusIs(t, "console remove", c.Post("/app/admin/feeds/"+f.ID+"/delete", url.Values{}), http.StatusSeeOther)
	mustStatusIs(t, "lifted", n.Do("GET", "/"+code, nil), 302)
	mustStatusIs(t, "console add", c.Post("/app/admin/feeds", url.Values{"name": {"again"}, "url": {srv.URL}, "format": {"hosts"},
		"interval": {"5"}}), http.StatusSeeOther)
	if fs := mustJSON[struct{ Items []apiFeed }](t, n.Do("GET", "/api/v1/feeds", nil), 200).Items; len(fs) != 1 || fs[0].IntervalSeconds != 300 {
		t.Fatalf("console-added feed: %+v", fs)
	}
}
