package httpd_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd/httpdtest"
)

func mustStatusIs(t *testing.T, what string, r httpdtest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
}

func problemType(t *testing.T, r httpdtest.Response) string {
	t.Helper()
	var p problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("not a problem: %s", r.Body)
	}
	return p.Type
}

// The adversary findings of issue 14, over HTTP: after an admin blocks a
// link its owner can neither change nor delete it, nor bring its
// destination back under another code or through the profile (even with
// "?x"), and it vanishes from the public profile page and API.
func TestTakedownSticksOverHTTP(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "mallory@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	p := mustPutProfile(t, n, tok, `{"handle":"mal","theme":"mint","links":[`+
		`{"title":"Prize","url":"https://phish.test/login"},{"title":"Blog","url":"https://blog.test/"}]}`)
	code := p.Links[0].Code
	mustStatusIs(t, "redirect before", n.Do("GET", "/"+code, nil), http.StatusFound)

	mustStatusIs(t, "block", n.Do("PUT", "/api/v1/links/"+code+"/takedown", []byte(`{"reason":"Phishing for bank logins"}`)), http.StatusOK)
	r := n.Do("GET", "/"+code, nil)
	mustStatusIs(t, "redirect after", r, http.StatusUnavailableForLegalReasons)
	if !strings.Contains(string(r.Body), "Phishing for bank logins") {
		t.Errorf("451 page does not say why: %s", r.Body)
	}

	for what, rr := range map[string]httpdtest.Response{
		"patch url": n.Do("PATCH", "/api/v1/links/"+code, []byte(`{"url":"https://innocent.test/"}`), as...),
		"delete":    n.Do("DELETE", "/api/v1/links/"+code, nil, as...),
	} {
		mustStatusIs(t, what, rr, http.StatusConflict)
		if ty := problemType(t, rr); !strings.HasSuffix(ty, "link-blocked") {
			t.Errorf("%s: problem %s", what, ty)
		}
	}
	mustStatusIs(t, "still 451", n.Do("GET", "/"+code, nil), http.StatusUnavailableForLegalReasons)
	for _, u := range []string{"https://phish.test/login", "https://phish.test/login?x", "http://PHISH.test/login/#a"} {
		rr := n.Do("POST", "/api/v1/links", []byte(`{"url":"`+u+`"}`), as...)
		mustStatusIs(t, "recreate "+u, rr, http.StatusUnprocessableEntity)
		if ty := problemType(t, rr); !strings.HasSuffix(ty, "blocked-destination") {
			t.Errorf("recreate %s: problem %s", u, ty)
		}
	}
	rr := n.Do("PUT", "/api/v1/profile", []byte(`{"handle":"mal","theme":"mint","links":[`+
		`{"code":"`+code+`","title":"Prize","url":"https://phish.test/login"},{"title":"Prize 2","url":"https://phish.test/login?x"}]}`), as...)
	mustStatusIs(t, "profile ?x", rr, http.StatusUnprocessableEntity)

	// Gone from the public page and API, not from the owner's view.
	page := n.Do("GET", "/@mal", nil)
	if strings.Contains(string(page.Body), code) || !strings.Contains(string(page.Body), "Blog") {
		t.Errorf("profile page still shows the blocked link (or lost the other)")
	}
	pub := n.Do("GET", "/api/v1/profiles/mal", nil)
	if strings.Contains(string(pub.Body), "phish.test") {
		t.Errorf("public profile API shows the blocked URL: %s", pub.Body)
	}

	// The owner reads why and appeals; admins see it in the audit trail.
	td := n.Do("GET", "/api/v1/links/"+code+"/takedown", nil, as...)
	mustStatusIs(t, "takedown info", td, http.StatusOK)
	if !strings.Contains(string(td.Body), "Phishing") {
		t.Errorf("owner cannot see why: %s", td.Body)
	}
	mustStatusIs(t, "appeal", n.Do("POST", "/api/v1/links/"+code+"/appeal", []byte(`{"note":"my bank's real page"}`), as...), http.StatusAccepted)
	mustStatusIs(t, "owner cannot unblock", n.Do("DELETE", "/api/v1/links/"+code+"/takedown", []byte(`{}`), as...), http.StatusForbidden)
	mustStatusIs(t, "owner cannot unblock by patch", n.Do("PATCH", "/api/v1/links/"+code, []byte(`{"status":"active"}`), as...), http.StatusUnprocessableEntity)
	mustStatusIs(t, "admin unblocks", n.Do("DELETE", "/api/v1/links/"+code+"/takedown", []byte(`{}`)), http.StatusNoContent)
	mustStatusIs(t, "unblocked", n.Do("GET", "/"+code, nil), http.StatusFound)
	audit := n.Do("GET", "/api/v1/audit", nil)
	for _, want := range []string{"link.block", "link.appeal", "link.unblock", "my bank"} {
		if !strings.Contains(string(audit.Body), want) {
			t.Errorf("audit lacks %q: %s", want, audit.Body)
		}
	}
}

func TestBlocklistOverHTTP(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "u@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	var codes []string
	for _, u := range []string{"https://a.evil.test/1", "https://evil.test/2", "https://good.test/", "https://host.test/x"} {
		codes = append(codes, mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"`+u+`"}`), as...), 201).Code)
	}
	mustPutProfile(t, n, tok, `{"handle":"uuu","theme":"mint","links":[{"title":"P","url":"https://www.evil.test/p"}]}`)

	// Bad input changes nothing.
	for _, body := range []string{`{"kind":"regex","value":"x"}`, `{"kind":"url","value":"not a url"}`, `{"kind":"domain","value":""}`} {
		mustStatusIs(t, body, n.Do("POST", "/api/v1/blocklist", []byte(body)), http.StatusUnprocessableEntity)
	}
	mustStatusIs(t, "user may not", n.Do("POST", "/api/v1/blocklist", []byte(`{"kind":"host","value":"x.test"}`), as...), http.StatusForbidden)

	var b struct{ ID, Kind, Value string }
	r := n.Do("POST", "/api/v1/blocklist", []byte(`{"kind":"domain","value":"www.EVIL.test","reason":"phishing kit"}`))
	mustStatusIs(t, "add", r, http.StatusCreated)
	if err := json.Unmarshal(r.Body, &b); err != nil || b.ID == "" || b.Value != "evil.test" {
		t.Fatalf("entry %s", r.Body)
	}
	mustStatusIs(t, "dup", n.Do("POST", "/api/v1/blocklist", []byte(`{"kind":"domain","value":"evil.test"}`)), http.StatusConflict)
	for i, want := range []int{451, 451, 302, 302} {
		mustStatusIs(t, codes[i], n.Do("GET", "/"+codes[i], nil), want)
	}
	p := n.Do("GET", "/api/v1/profile", nil, as...)
	var own profileResp
	_ = json.Unmarshal(p.Body, &own)
	if len(own.Links) != 1 {
		t.Fatalf("profile: %s", p.Body)
	}
	mustStatusIs(t, "profile link", n.Do("GET", "/"+own.Links[0].Code, nil), 451)
	rr := n.Do("POST", "/api/v1/links", []byte(`{"url":"https://deep.sub.evil.test/z"}`), as...)
	mustStatusIs(t, "create on blocked domain", rr, 422)
	if ty := problemType(t, rr); !strings.HasSuffix(ty, "blocked-destination") {
		t.Errorf("problem %s", ty)
	}
	mustStatusIs(t, "url entry", n.Do("POST", "/api/v1/blocklist", []byte(`{"kind":"url","value":"https://host.test/x"}`)), 201)
	mustStatusIs(t, "url matched", n.Do("GET", "/"+codes[3], nil), 451)
	mustStatusIs(t, "patch onto blocked", n.Do("PATCH", "/api/v1/links/"+codes[2], []byte(`{"url":"https://host.test/x?utm=1"}`), as...), 422)

	list := n.Do("GET", "/api/v1/blocklist", nil)
	if !strings.Contains(string(list.Body), `"evil.test"`) || !strings.Contains(string(list.Body), `"host.test/x"`) {
		t.Fatalf("list %s", list.Body)
	}
	mustStatusIs(t, "delete", n.Do("DELETE", "/api/v1/blocklist/"+b.ID, []byte(`{}`)), http.StatusNoContent)
	mustStatusIs(t, "delete again", n.Do("DELETE", "/api/v1/blocklist/"+b.ID, []byte(`{}`)), http.StatusNotFound)
	mustStatusIs(t, "lifted", n.Do("GET", "/"+codes[0], nil), 302)
	mustStatusIs(t, "other entry's takedown stays", n.Do("GET", "/"+codes[3], nil), 451)
}

// Reports end to end: the preview page's form files one (anonymously),
// the API takes JSON, bad input is refused, an admin reviews the queue and
// blocks the link's domain: every link to that domain answers 451.
func TestReportsOverHTTP(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "v@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	a := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://login.fakebank.test/a"}`), as...), 201).Code
	b := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://www.fakebank.test/b"}`), as...), 201).Code
	c := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://realbank.test/"}`), as...), 201).Code

	prev := n.Do("GET", "/"+a+"+", nil)
	if prev.Status != 200 || !strings.Contains(string(prev.Body), `action="/api/v1/reports"`) || !strings.Contains(string(prev.Body), a) {
		t.Fatalf("preview has no report form: %d %s", prev.Status, prev.Body)
	}
	req, _ := http.NewRequest("POST", n.URL+"/api/v1/reports", strings.NewReader("code="+a+"&reason=phishing&note=fake+login"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("form report: %v %v", resp, err)
	}
	resp.Body.Close()
	anon := []string{"Authorization", ""}
	mustStatusIs(t, "json report", n.Do("POST", "/api/v1/reports", []byte(`{"code":"`+b+`","reason":"malware"}`), anon...), http.StatusAccepted)
	mustStatusIs(t, "duplicate report", n.Do("POST", "/api/v1/reports", []byte(`{"code":"`+b+`","reason":"malware"}`), anon...), http.StatusAccepted)
	for _, body := range []string{`{"code":"` + b + `","reason":"dislike"}`, `{"code":"../x","reason":"spam"}`, `{"code":"` + b + `","reason":"spam","extra":1}`} {
		mustStatusIs(t, body, n.Do("POST", "/api/v1/reports", []byte(body), anon...), 422)
	}
	mustStatusIs(t, "unknown code", n.Do("POST", "/api/v1/reports", []byte(`{"code":"nosuchcode","reason":"spam"}`), anon...), 404)
	mustStatusIs(t, "users cannot list", n.Do("GET", "/api/v1/reports", nil, as...), http.StatusForbidden)

	var q struct {
		Items []struct{ ID, Code, Reason, Status string }
	}
	r := n.Do("GET", "/api/v1/reports", nil)
	if err := json.Unmarshal(r.Body, &q); err != nil || len(q.Items) != 2 {
		t.Fatalf("queue %s", r.Body)
	}
	mustStatusIs(t, "bad action", n.Do("POST", "/api/v1/reports/"+q.Items[0].ID, []byte(`{"action":"nuke"}`)), 422)
	mustStatusIs(t, "block domain", n.Do("POST", "/api/v1/reports/"+q.Items[0].ID, []byte(`{"action":"block-domain"}`)), http.StatusNoContent)
	mustStatusIs(t, "a", n.Do("GET", "/"+a, nil), 451)
	mustStatusIs(t, "b", n.Do("GET", "/"+b, nil), 451)
	mustStatusIs(t, "c", n.Do("GET", "/"+c, nil), 302)
	blocked := n.Do("GET", "/"+a, nil)
	if !strings.Contains(string(blocked.Body), `action="/api/v1/reports"`) {
		t.Errorf("451 page has no report form")
	}
	if r := n.Do("GET", "/api/v1/reports", nil); strings.Contains(string(r.Body), `"status":"open"`) {
		t.Errorf("queue not empty after blocking: %s", r.Body)
	}
	if r := n.Do("GET", "/api/v1/audit", nil); !strings.Contains(string(r.Body), "report.block-domain") {
		t.Errorf("audit: %s", r.Body)
	}
}

// The console's review queue: report → review → block domain → every link
// to that domain answers 451; the blocklist form adds and removes entries.
func TestModerationConsole(t *testing.T) {
	n := httpdtest.Start(t, "")
	mustStatusIs(t, "admin user", n.Do("POST", "/api/v1/users", []byte(`{"email":"mod@x.test","password":"correct horse battery","role":"admin"}`)), 201)
	c := n.NewConsole(t)
	c.Login("mod@x.test", "correct horse battery")
	a := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://a.scam.test/1"}`)), 201).Code
	b := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://scam.test/2"}`)), 201).Code
	mustStatusIs(t, "report", n.Do("POST", "/api/v1/reports", []byte(`{"code":"`+a+`","reason":"phishing","note":"asks for passwords"}`), "Authorization", ""), 202)

	page := c.Get("/app/admin/moderation")
	mustStatusIs(t, "queue", page, 200)
	body := string(page.Body)
	if !strings.Contains(body, "asks for passwords") {
		t.Fatalf("queue lacks the report: %s", body)
	}
	var q struct{ Items []struct{ ID string } }
	_ = json.Unmarshal(n.Do("GET", "/api/v1/reports", nil).Body, &q)
	if len(q.Items) != 1 || !strings.Contains(body, "/app/admin/reports/"+q.Items[0].ID) {
		t.Fatalf("queue form: %s", body)
	}
	mustStatusIs(t, "block domain", c.Post("/app/admin/reports/"+q.Items[0].ID, url.Values{"action": {"block-domain"}}), http.StatusSeeOther)
	mustStatusIs(t, "a", n.Do("GET", "/"+a, nil), 451)
	mustStatusIs(t, "b", n.Do("GET", "/"+b, nil), 451)
	page = c.Get("/app/admin/moderation")
	if !strings.Contains(string(page.Body), "scam.test") || !strings.Contains(string(page.Body), "report.block-domain") {
		t.Fatalf("blocklist or audit missing: %s", page.Body)
	}
	mustStatusIs(t, "bad entry", c.Post("/app/admin/blocklist", url.Values{"kind": {"regex"}, "value": {"x"}}), 422)
	mustStatusIs(t, "add entry", c.Post("/app/admin/blocklist", url.Values{"kind": {"host"}, "value": {"other.test"}}), http.StatusSeeOther)
	var bl struct{ Items []struct{ ID, Value string } }
	_ = json.Unmarshal(n.Do("GET", "/api/v1/blocklist", nil).Body, &bl)
	if len(bl.Items) != 2 {
		t.Fatalf("blocklist %+v", bl)
	}
	for _, e := range bl.Items {
		mustStatusIs(t, "remove", c.Post("/app/admin/blocklist/"+e.ID+"/delete", url.Values{}), http.StatusSeeOther)
	}
	mustStatusIs(t, "lifted", n.Do("GET", "/"+b, nil), 302)
	plain, _ := n.User(t, "plain@x.test", "correct horse battery")
	mustStatusIs(t, "not for users", plain.Get("/app/admin/moderation"), http.StatusNotFound)
}

// Destinations on other known shorteners are refused (422 on url) at
// create, edit and in the profile; others pass.
func TestShortenerDestinationsRefused(t *testing.T) {
	n := httpdtest.Start(t, "")
	for _, u := range []string{"https://bit.ly/abc", "http://www.tinyurl.com/x", "https://T.CO/y", "https://sho.rt/abc"} {
		r := n.Do("POST", "/api/v1/links", []byte(`{"url":"`+u+`"}`))
		mustStatusIs(t, u, r, 422)
		if !strings.Contains(string(r.Body), `"field":"url"`) {
			t.Errorf("%s: %s", u, r.Body)
		}
	}
	code := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://notbit.ly.example/abc"}`)), 201).Code
	mustStatusIs(t, "edit", n.Do("PATCH", "/api/v1/links/"+code, []byte(`{"url":"https://cutt.ly/z"}`)), 422)
	mustStatusIs(t, "profile", n.Do("PUT", "/api/v1/profile", []byte(`{"handle":"adm","theme":"mint","links":[{"title":"x","url":"https://is.gd/q"}]}`)), 422)
}

// A user downloads all their data, from the API and from the console:
// links with analytics, profile, keys' metadata, never a token.
func TestExportOverHTTP(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "ex@x.test", "correct horse battery")
	as := httpdtest.As(tok)
	code := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://mine.test/a","title":"Mine"}`), as...), 201).Code
	mustPutProfile(t, n, tok, `{"handle":"exporter","theme":"mint","links":[{"title":"P","url":"https://mine.test/p"}]}`)
	mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://not-mine.test/"}`)), 201) // the admin's
	n.Do("GET", "/"+code, nil)

	for what, r := range map[string]httpdtest.Response{"api": n.Do("GET", "/api/v1/me/export", nil, as...), "console": c.Get("/app/export")} {
		mustStatusIs(t, what, r, 200)
		var e struct {
			User    struct{ Email string }
			APIKeys []struct{ ID, Name string }
			Profile *struct{ Handle string }
			Links   []struct {
				Code, URL string
				Analytics *struct{ Total uint64 }
			}
		}
		if err := json.Unmarshal(r.Body, &e); err != nil {
			t.Fatalf("%s: %v: %s", what, err, r.Body)
		}
		body := string(r.Body)
		if e.User.Email != "ex@x.test" || len(e.APIKeys) != 1 || e.Profile == nil || e.Profile.Handle != "exporter" ||
			len(e.Links) != 3 || strings.Contains(body, "not-mine") || strings.Contains(body, tok) || !strings.Contains(body, "https://mine.test/a") {
			t.Fatalf("%s export: %s", what, body)
		}
		for _, l := range e.Links {
			if l.Analytics == nil {
				t.Errorf("%s: link %s has no analytics", what, l.Code)
			}
		}
	}
}
