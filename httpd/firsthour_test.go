package httpd_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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

// The console's class bar has disjoint parts that add up to every request
// (QR scans are a subset of clicks, so they are a stat, not a fourth part),
// every number says what it counts, and the footer states the lag.
func TestAnalyticsPageClassesAddUp(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "ana@example.com", pw)
	code := mustCreateLink(t, n, tok, `{"url":"https://e.test/a"}`)
	visit := func(method, path, ua string) {
		if r := n.Do(method, path, nil, "Authorization", "", "User-Agent", ua); r.Status != 302 {
			t.Fatalf("%s %s: %d", method, path, r.Status)
		}
	}
	visit("GET", "/"+code, firefox)
	visit("GET", "/"+code+"?qr", iphone)
	visit("GET", "/"+code+"?qr", iphone)
	visit("GET", "/"+code, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	visit("HEAD", "/"+code, firefox)
	var page string
	eventually(t, 10*httpdtest.AnalyticsLag, "the analytics page to show 5 requests", func() bool {
		page = string(c.Get("/app/links/" + code + "/analytics").Body)
		return strings.Contains(page, "All 5 requests")
	})
	// 3 humans (2 of them QR scans) + 1 bot + 1 preview.
	for _, want := range []string{"All 5 requests: 3 humans + 1 bot + 1 link preview.",
		"Humans 3 (60.0%), Bots 1 (20.0%), Link previews 1 (20.0%).",
		"<b>4</b><span>clicks in this period", "<b>2</b><span>QR scans (included in the clicks)",
		"Clicks appear within 1 s (the analytics lag)"} {
		if !strings.Contains(page, want) {
			t.Errorf("analytics page lacks %q", want)
		}
	}
	if strings.Contains(page, "QR scans 2 (") {
		t.Error("QR scans are still a part of the class bar")
	}
}

// eventually polls cond until it holds or the timeout passes.
var eventually = httpdtest.Eventually

// "Add link" works without script: the form comes back with what was typed
// and one more blank row, and nothing is saved; repeated, it gives room for
// five new links saved at once.
func TestProfileEditorAddLinkWithoutScript(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "add@example.com", pw)
	c.Get("/app/profile")
	form := url.Values{"handle": {"adder"}, "displayName": {"Add"}, "theme": {"forest"}}
	for i := 0; i < 5; i++ {
		r := c.PostMultipart("/app/profile", mergeForm(form, "add", "1"), nil)
		body := string(r.Body)
		if r.Status != 200 || !strings.Contains(body, fmt.Sprintf(`name="l%d_title"`, i)) || strings.Contains(body, fmt.Sprintf(`name="l%d_title"`, i+1)) {
			t.Fatalf("add %d: %d, want rows l0..l%d", i, r.Status, i)
		}
		if !strings.Contains(body, `value="adder"`) {
			t.Fatalf("add %d lost the typed handle", i)
		}
		form.Set(fmt.Sprintf("l%d_order", i), fmt.Sprint(i))
		form.Set(fmt.Sprintf("l%d_title", i), fmt.Sprintf("Link %d", i))
		form.Set(fmt.Sprintf("l%d_url", i), fmt.Sprintf("https://l%d.example/", i))
		form.Set(fmt.Sprintf("l%d_enabled", i), "1")
	}
	mustStatus(t, "nothing saved by Add link", n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...), http.StatusNotFound)
	mustStatus(t, "save", c.PostMultipart("/app/profile", form, nil), http.StatusSeeOther)
	var p struct{ Links []struct{ Title string } }
	json.Unmarshal(n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...).Body, &p)
	if len(p.Links) != 5 || p.Links[4].Title != "Link 4" {
		t.Fatalf("saved links: %+v", p.Links)
	}
}

func mergeForm(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}
