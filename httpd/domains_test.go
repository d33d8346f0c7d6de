package httpd_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// Issue 16, domains over HTTP: the same code on two domains resolves by
// Host; codes are unique per domain; per-domain root and not-found
// redirects; profile domains; an unknown host is a 404 counted as an
// orphan; a link on a domain is addressed with ?domain=.
func TestDomainsOverHTTP(t *testing.T) {
	n := httpdtest.Start(t, "")
	mustStatusIs(t, "add links.example", n.Do("POST", "/api/v1/domains", []byte(`{"host":"Links.Example.","kind":"links",`+
		`"rootUrl":"https://home.test/","notFoundUrl":"https://home.test/missing","hsts":true}`)), http.StatusCreated)
	mustProblem(t, n.Do("POST", "/api/v1/domains", []byte(`{"host":"links.example","kind":"links"}`)), 409, "host")
	mustProblem(t, n.Do("POST", "/api/v1/domains", []byte(`{"host":"1.2.3.4","kind":"links"}`)), 422, "host")
	mustProblem(t, n.Do("POST", "/api/v1/domains", []byte(`{"host":"x.example:8080","kind":"links"}`)), 422, "host")
	mustProblem(t, n.Do("POST", "/api/v1/domains", []byte(`{"host":"sho.rt","kind":"links"}`)), 422, "host")
	mustProblem(t, n.Do("POST", "/api/v1/domains", []byte(`{"host":"y.example","kind":"pages"}`)), 422, "kind")
	d := mustJSON[struct {
		Host string
		HSTS bool
	}](t, n.Do("GET", "/api/v1/domains/links.example", nil), 200)
	if d.Host != "links.example" || !d.HSTS {
		t.Fatalf("domain %+v", d)
	}

	a := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://a.test/","alias":"same"}`)), 201)
	b := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://b.test/","alias":"same","domain":"LINKS.example"}`)), 201)
	if a.Domain != "sho.rt" || a.ShortURL != "http://sho.rt/same" || b.Domain != "links.example" || b.ShortURL != "http://links.example/same" {
		t.Fatalf("links: %+v / %+v", a, b)
	}
	p := mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://c.test/","alias":"same","domain":"links.example"}`)), 409, "alias")
	if !strings.HasSuffix(p.Type, "alias-taken") {
		t.Fatalf("per-domain conflict: %+v", p)
	}
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://c.test/","domain":"nowhere.example"}`)), 422, "domain")
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"http://links.example/same"}`)), 422, "url") // a loop

	for host, want := range map[string]string{"sho.rt": "https://a.test/", "LINKS.EXAMPLE:8080": "https://b.test/", "": "https://a.test/"} {
		var r httpdtest.Response
		if host == "" {
			r = n.Do("GET", "/same", nil) // 127.0.0.1:port: an IP literal is the default domain
		} else {
			r = n.Do("GET", "/same", nil, "Host", host)
		}
		if r.Status != http.StatusFound || r.Header.Get("Location") != want {
			t.Errorf("GET /same on %q: %d %q, want %s", host, r.Status, r.Header.Get("Location"), want)
		}
	}
	for path, want := range map[string]string{"/": "https://home.test/", "/nope": "https://home.test/missing"} {
		r := n.Do("GET", path, nil, "Host", "links.example")
		if r.Status != http.StatusFound || r.Header.Get("Location") != want {
			t.Errorf("GET %s on links.example: %d %q, want %s", path, r.Status, r.Header.Get("Location"), want)
		}
	}
	if r := n.Do("GET", "/", nil, "Host", "sho.rt"); r.Status != 200 {
		t.Errorf("default root: %d", r.Status)
	}

	// Addressed by ?domain=: a change touches that domain's link only.
	mustStatusIs(t, "patch", n.Do("PATCH", "/api/v1/links/same?domain=links.example", []byte(`{"url":"https://b2.test/"}`)), 200)
	if got := mustJSON[link](t, n.Do("GET", "/api/v1/links/same", nil), 200); got.URL != "https://a.test/" {
		t.Errorf("default link changed: %+v", got)
	}
	if r := n.Do("GET", "/same", nil, "Host", "links.example"); r.Header.Get("Location") != "https://b2.test/" {
		t.Errorf("patched link: %q", r.Header.Get("Location"))
	}
	list := mustJSON[struct{ Items []link }](t, n.Do("GET", "/api/v1/links?domain=links.example", nil), 200)
	if len(list.Items) != 1 || list.Items[0].Domain != "links.example" {
		t.Errorf("filtered list: %+v", list.Items)
	}

	// Unknown host: a clear 404, counted as an orphan under that host.
	r := n.Do("GET", "/same", nil, "Host", "evil.example")
	if r.Status != 404 || !strings.Contains(string(r.Body), "Domain not served here") {
		t.Fatalf("unknown host: %d %s", r.Status, r.Body)
	}
	eventually(t, 10*time.Second, "the orphan visit of evil.example", func() bool {
		o := mustJSON[struct {
			Hosts []struct {
				Key   string
				Count uint64
			}
		}](t, n.Do("GET", "/api/v1/analytics/orphans", nil), 200)
		for _, h := range o.Hosts {
			if h.Key == "evil.example" && h.Count == 1 {
				return true
			}
		}
		return false
	})

	// Profile domains: /{handle} on kind profiles; on kind both, a code
	// first, else the handle.
	_, tok := n.User(t, "ann@x.test", "correct horse battery")
	mustPutProfile(t, n, tok, `{"handle":"ann","theme":"mint","links":[{"title":"Blog","url":"https://blog.test/"}]}`)
	mustStatusIs(t, "add bio", n.Do("POST", "/api/v1/domains", []byte(`{"host":"bio.example","kind":"profiles"}`)), 201)
	mustStatusIs(t, "add both", n.Do("POST", "/api/v1/domains", []byte(`{"host":"both.example","kind":"both"}`)), 201)
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://c.test/","domain":"bio.example"}`)), 422, "domain")
	mustStatusIs(t, "link on both", n.Do("POST", "/api/v1/links", []byte(`{"url":"https://d.test/","alias":"ann2","domain":"both.example"}`)), 201)
	for _, c := range []struct{ host, path string }{{"bio.example", "/ann"}, {"both.example", "/ann"}} {
		r := n.Do("GET", c.path, nil, "Host", c.host)
		if r.Status != 200 || !strings.Contains(string(r.Body), "Blog") {
			t.Errorf("profile on %s%s: %d", c.host, c.path, r.Status)
		}
	}
	if r := n.Do("GET", "/ann2", nil, "Host", "both.example"); r.Status != 302 || r.Header.Get("Location") != "https://d.test/" {
		t.Errorf("link on both: %d %q", r.Status, r.Header.Get("Location"))
	}

	// Deleting a domain: its host is unknown again; its links stay.
	mustStatusIs(t, "delete", n.Do("DELETE", "/api/v1/domains/links.example", nil), 204)
	mustStatusIs(t, "deleted host", n.Do("GET", "/same", nil, "Host", "links.example"), 404)
	mustStatusIs(t, "re-add", n.Do("POST", "/api/v1/domains", []byte(`{"host":"links.example","kind":"links"}`)), 201)
	mustStatusIs(t, "back", n.Do("GET", "/same", nil, "Host", "links.example"), 302)

	// Analytics grouped by domain.
	n.Do("GET", "/same", nil, "Host", "sho.rt")
	eventually(t, 10*time.Second, "clicks by domain", func() bool {
		g := mustJSON[struct {
			Items []struct {
				Domain string
				Clicks uint64
			}
		}](t, n.Do("GET", "/api/v1/analytics/domains", nil), 200)
		seen := map[string]bool{}
		for _, it := range g.Items {
			seen[it.Domain] = it.Clicks > 0
		}
		return seen["sho.rt"] && seen["links.example"]
	})
}

// A domain delegated to one user: only that user (and admins) create links
// on it. The attack: another user creating on it gets 403 and changes
// nothing, and cannot list, add or change domains.
func TestDomainDelegation(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, alice := n.User(t, "alice@x.test", "correct horse battery")
	_, bob := n.User(t, "bob@x.test", "correct horse battery")
	aliceID := mustJSON[struct{ ID uint64 }](t, n.Do("GET", "/api/v1/me", nil, httpdtest.As(alice)...), 200).ID
	mustStatusIs(t, "add", n.Do("POST", "/api/v1/domains", []byte(fmt.Sprintf(`{"host":"alice.example","kind":"links","delegate":%d}`, aliceID))), 201)
	mustStatusIs(t, "add plain", n.Do("POST", "/api/v1/domains", []byte(`{"host":"admins.example","kind":"links"}`)), 201)

	for _, host := range []string{"alice.example", "admins.example"} {
		p := mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://bob.test/","alias":"bob","domain":"`+host+`"}`), httpdtest.As(bob)...), 403, "domain")
		if !strings.HasSuffix(p.Type, "forbidden") {
			t.Fatalf("problem %+v", p)
		}
		mustStatusIs(t, "nothing created on "+host, n.Do("GET", "/bob", nil, "Host", host), 404)
		mustStatusIs(t, "nothing in the API", n.Do("GET", "/api/v1/links/bob?domain="+host, nil), 404)
	}
	if r := n.Do("POST", "/api/v1/links/bulk", []byte(`{"links":[{"url":"https://bob.test/","domain":"alice.example"}]}`), httpdtest.As(bob)...); !strings.Contains(string(r.Body), "forbidden") {
		t.Fatalf("bob's bulk create: %d %s", r.Status, r.Body)
	}
	if l := mustJSON[struct{ Items []link }](t, n.Do("GET", "/api/v1/links?domain=alice.example", nil), 200); len(l.Items) != 0 {
		t.Fatalf("bob's bulk create landed: %+v", l.Items)
	}
	l := mustJSON[link](t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://alice.test/","alias":"hey","domain":"alice.example"}`), httpdtest.As(alice)...), 201)
	if l.ShortURL != "http://alice.example/hey" {
		t.Fatalf("alice's link %+v", l)
	}
	mustStatusIs(t, "admin on any domain", n.Do("POST", "/api/v1/links", []byte(`{"url":"https://adm.test/","domain":"admins.example"}`)), 201)
	// Bob cannot touch alice's link on her domain either.
	mustProblem(t, n.Do("PATCH", "/api/v1/links/hey?domain=alice.example", []byte(`{"url":"https://bob.test/"}`), httpdtest.As(bob)...), 404, "")

	if ds := mustJSON[struct{ Items []struct{ Host string } }](t, n.Do("GET", "/api/v1/domains", nil, httpdtest.As(bob)...), 200); len(ds.Items) != 0 {
		t.Errorf("bob sees domains: %+v", ds.Items)
	}
	if ds := mustJSON[struct{ Items []struct{ Host string } }](t, n.Do("GET", "/api/v1/domains", nil, httpdtest.As(alice)...), 200); len(ds.Items) != 1 {
		t.Errorf("alice sees %+v, want her domain", ds.Items)
	}
	mustProblem(t, n.Do("POST", "/api/v1/domains", []byte(`{"host":"bob.example","kind":"links"}`), httpdtest.As(bob)...), 403, "")
	mustProblem(t, n.Do("PATCH", "/api/v1/domains/alice.example", []byte(`{"delegate":0}`), httpdtest.As(bob)...), 403, "")
	mustProblem(t, n.Do("DELETE", "/api/v1/domains/alice.example", nil, httpdtest.As(bob)...), 403, "")

	// Taking the delegation back stops alice; her link stays.
	mustStatusIs(t, "undelegate", n.Do("PATCH", "/api/v1/domains/alice.example", []byte(`{"delegate":0}`)), 200)
	mustProblem(t, n.Do("POST", "/api/v1/links", []byte(`{"url":"https://alice.test/2","domain":"alice.example"}`), httpdtest.As(alice)...), 403, "domain")
	mustStatusIs(t, "her link", n.Do("GET", "/hey", nil, "Host", "alice.example"), 302)
}

// The domain limit: 100 domains are accepted, the 101st is refused with
// 409 domain-limit.
func TestDomainLimit(t *testing.T) {
	n := httpdtest.Start(t, "")
	for i := range 100 {
		mustStatusIs(t, "domain", n.Do("POST", "/api/v1/domains", []byte(fmt.Sprintf(`{"host":"d%d.example","kind":"links"}`, i))), 201)
	}
	p := mustProblem(t, n.Do("POST", "/api/v1/domains", []byte(`{"host":"one-too-many.example","kind":"links"}`)), 409, "")
	if !strings.HasSuffix(p.Type, "domain-limit") {
		t.Fatalf("problem %+v", p)
	}
	mustStatusIs(t, "the 101st is not served", n.Do("GET", "/x", nil, "Host", "one-too-many.example"), 404)
	mustStatusIs(t, "delete one", n.Do("DELETE", "/api/v1/domains/d0.example", nil), 204)
	mustStatusIs(t, "then there is room", n.Do("POST", "/api/v1/domains", []byte(`{"host":"one-too-many.example","kind":"links"}`)), 201)
}

// --profile-host stays served once domains exist: it is never an unknown
// host.
func TestProfileHostWithDomains(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{ProfileHost: "me.example"})
	mustStatusIs(t, "add", n.Do("POST", "/api/v1/domains", []byte(`{"host":"links.example","kind":"links"}`)), 201)
	mustStatusIs(t, "profile host root", n.Do("GET", "/", nil, "Host", "me.example"), 200)
	mustStatusIs(t, "unknown host root", n.Do("GET", "/", nil, "Host", "other.example"), 404)
}

// With --redirect-max-age a domain's links are cacheable, but its root and
// not-found redirects are not: they follow the domain's settings, whose
// changes purge nothing, so a CDN must not keep the old answer.
func TestDomainRedirectsNotCached(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{RedirectMaxAge: 300 * time.Second})
	mustStatusIs(t, "add", n.Do("POST", "/api/v1/domains", []byte(`{"host":"go.example","kind":"links",`+
		`"rootUrl":"https://home.test/","notFoundUrl":"https://home.test/missing"}`)), http.StatusCreated)
	mustStatusIs(t, "link", n.Do("POST", "/api/v1/links", []byte(`{"url":"https://a.test/","alias":"abc","domain":"go.example"}`)), http.StatusCreated)
	for _, c := range []struct{ path, loc, cache string }{
		{"/abc", "https://a.test/", "public, max-age=300, s-maxage=300"},
		{"/", "https://home.test/", "no-store"},
		{"/nope", "https://home.test/missing", "no-store"},
	} {
		r := n.Do("GET", c.path, nil, "Host", "go.example")
		if r.Status != http.StatusFound || r.Header.Get("Location") != c.loc || r.Header.Get("Cache-Control") != c.cache {
			t.Errorf("GET go.example%s: %d %q Cache-Control %q, want 302 %q %q", c.path, r.Status,
				r.Header.Get("Location"), r.Header.Get("Cache-Control"), c.loc, c.cache)
		}
	}
	mustStatusIs(t, "change root", n.Do("PATCH", "/api/v1/domains/go.example", []byte(`{"rootUrl":"https://home2.test/"}`)), 200)
	if r := n.Do("GET", "/", nil, "Host", "go.example"); r.Header.Get("Location") != "https://home2.test/" {
		t.Errorf("changed root: %q", r.Header.Get("Location"))
	}
}
