package httpd_test

import (
	"strings"
	"testing"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// The home page names linkd once in its title and links to the console.
func TestHomePage(t *testing.T) {
	n := httpdtest.Start(t, "")
	r := n.Do("GET", "/", nil)
	body := string(r.Body)
	if r.Status != 200 || !strings.Contains(body, "<title>linkd</title>") || !strings.Contains(body, `href="/app/"`) {
		t.Fatalf("home: %d %s", r.Status, body)
	}
	// Other pages keep the site name after their own title.
	if b := string(n.Do("GET", "/nosuchcode", nil).Body); !strings.Contains(b, " · linkd</title>") {
		t.Fatalf("404 page title: %s", b)
	}
}

// The gzip and identity bodies of a profile page have different strong
// ETags, and a conditional request matches only its own variant's; a
// profile without an avatar shows a placeholder with the name's initial.
func TestProfilePageVariantsAndPlaceholder(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "ada@example.com", pw)
	mustPutProfile(t, n, tok, `{"handle":"ada","displayName":"ada L.","theme":"mint","links":[{"title":"Blog","url":"https://ada.example/"}]}`)
	gz := n.Do("GET", "/@ada", nil, "Accept-Encoding", "gzip")
	id := n.Do("GET", "/@ada", nil, "Accept-Encoding", "identity")
	ge, ie := gz.Header.Get("ETag"), id.Header.Get("ETag")
	if gz.Header.Get("Content-Encoding") != "gzip" || id.Header.Get("Content-Encoding") != "" || ge == "" || ge == ie {
		t.Fatalf("gzip ETag %q (%q), identity ETag %q (%q)", ge, gz.Header.Get("Content-Encoding"), ie, id.Header.Get("Content-Encoding"))
	}
	for _, c := range []struct {
		enc, inm string
		want     int
	}{{"gzip", ge, 304}, {"identity", ie, 304}, {"identity", ge, 200}, {"gzip", ie, 200}, {"gzip", `"x", W/` + ge, 304}} {
		if r := n.Do("GET", "/@ada", nil, "Accept-Encoding", c.enc, "If-None-Match", c.inm); r.Status != c.want {
			t.Errorf("%s with If-None-Match %s: %d, want %d", c.enc, c.inm, r.Status, c.want)
		}
	}
	if !strings.Contains(string(id.Body), `<div class="avatar ph" role="img" aria-label="ada L.">A</div>`) {
		t.Fatalf("no placeholder avatar:\n%s", id.Body)
	}
}
