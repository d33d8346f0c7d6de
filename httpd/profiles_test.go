package httpd_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

type profileResp struct {
	Handle   string
	URL      string
	PageCode string
	Views    *uint64
	Links    []struct {
		Code, Title, URL, Platform, ShortURL string
		Clicks                               *uint64
	}
}

func mustPutProfile(t testing.TB, n *httpdtest.Node, token, body string) profileResp {
	t.Helper()
	r := n.Do("PUT", "/api/v1/profile", []byte(body), httpdtest.As(token)...)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT profile: %d %s", r.Status, r.Body)
	}
	var p profileResp
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// fiftyLinks is a profile body with n links over many platforms.
func fiftyLinks(handle string, n int) string {
	hosts := []string{"instagram.com", "youtube.com", "tiktok.com", "x.com", "github.com", "twitch.tv", "open.spotify.com",
		"soundcloud.com", "reddit.com", "example.com", "patreon.com", "linkedin.com"}
	var links []string
	for i := 0; i < n; i++ {
		links = append(links, fmt.Sprintf(`{"title":"My link number %d with a longer title","url":"https://%s/someone/%d","social":%v}`,
			i, hosts[i%len(hosts)], i, i < 4))
	}
	return `{"handle":"` + handle + `","displayName":"Ada Lovelace","bio":"Mathematician. Writes about engines.\nLondon.",` +
		`"theme":"midnight","links":[` + strings.Join(links, ",") + `]}`
}

func TestProfileAPI(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "ada@example.com", pw)
	p := mustPutProfile(t, n, tok, `{"handle":"Ada","displayName":"Ada","bio":"hi","theme":"mint","links":[
		{"title":"Blog","url":"https://ada.example/"},{"title":"GitHub","url":"https://github.com/ada"},{"title":"","url":"https://x.com/ada","social":true}]}`)
	if p.Handle != "ada" || len(p.Links) != 3 || p.PageCode == "" || p.Links[1].Platform != "github" || p.Links[2].Platform != "x" {
		t.Fatalf("profile: %+v", p)
	}
	codes := []string{p.Links[0].Code, p.Links[1].Code, p.Links[2].Code}
	// Every profile link is a real short link of the user.
	if st, loc := redirect(t, n, codes[1]); st != 302 || loc != "https://github.com/ada" {
		t.Fatalf("profile link redirects %d %q", st, loc)
	}
	// Reorder, drop one, add one, rename one: codes stay with their links.
	p2 := mustPutProfile(t, n, tok, `{"handle":"ada","displayName":"Ada L.","theme":"mint","links":[
		{"code":"`+codes[1]+`","title":"Code","url":"https://github.com/ada"},
		{"title":"Blog","url":"https://ada.example/"},
		{"title":"Shop","url":"https://shop.example/"}]}`)
	if p2.Links[0].Code != codes[1] || p2.Links[1].Code != codes[0] || p2.Links[2].Code == codes[2] || p2.PageCode != p.PageCode {
		t.Fatalf("codes after reorder: %+v (before %v)", p2.Links, codes)
	}
	// The dropped link keeps redirecting for longer than a CDN may serve the
	// page that still shows it (s-maxage + stale-while-revalidate), then
	// expires; it is not deleted at once.
	if st, loc := redirect(t, n, codes[2]); st != http.StatusFound || loc != "https://x.com/ada" {
		t.Fatalf("dropped link answers %d %q, want a 302 while cached pages may still show it", st, loc)
	}
	page := n.Do("GET", "/@ada", nil)
	cacheFor := cdnLifetime(t, page.Header.Get("Cache-Control"))
	var dropped struct{ ExpiresAt time.Time }
	json.Unmarshal(n.Do("GET", "/api/v1/links/"+codes[2], nil, httpdtest.As(tok)...).Body, &dropped)
	if left := time.Until(dropped.ExpiresAt); left <= cacheFor {
		t.Fatalf("dropped link expires in %s, within the %s a CDN may serve the old page", left, cacheFor)
	}
	// Public data, no token, no schedules or counts.
	r := n.Do("GET", "/api/v1/profiles/ADA", nil, "Authorization", "")
	if r.Status != 200 || strings.Contains(string(r.Body), "clicks") || !strings.Contains(string(r.Body), `"displayName":"Ada L."`) {
		t.Fatalf("public profile: %d %s", r.Status, r.Body)
	}

	// Another user cannot take the handle or use the codes.
	_, tok2 := n.User(t, "bob@example.com", pw)
	mustStatus(t, "taken handle", n.Do("PUT", "/api/v1/profile", []byte(`{"handle":"ada","theme":"mint","links":[]}`), httpdtest.As(tok2)...), http.StatusConflict)
	mustStatus(t, "foreign code", n.Do("PUT", "/api/v1/profile", []byte(`{"handle":"bob","theme":"mint","links":[{"code":"`+codes[1]+`","title":"x","url":"https://x.example/"}]}`), httpdtest.As(tok2)...), http.StatusUnprocessableEntity)
	mustStatus(t, "no profile yet", n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok2)...), http.StatusNotFound)

	for name, body := range map[string]string{
		"51 links":      fiftyLinks("bob", 51),
		"bad url":       `{"handle":"bob","theme":"mint","links":[{"title":"x","url":"javascript:alert(1)"}]}`,
		"reserved":      `{"handle":"admin","theme":"mint","links":[]}`,
		"short handle":  `{"handle":"ab","theme":"mint","links":[]}`,
		"unknown theme": `{"handle":"bob","theme":"vaporwave","links":[]}`,
		"raw css":       `{"handle":"bob","theme":"mint","customTheme":{"background":"red;}body{background:url(//evil)"},"links":[]}`,
		"unreadable":    `{"handle":"bob","theme":"mint","customTheme":{"background":"#ffffff","text":"#fefefe"},"links":[]}`,
		"no title":      `{"handle":"bob","theme":"mint","links":[{"title":"","url":"https://x.example/"}]}`,
		"bad schedule":  `{"handle":"bob","theme":"mint","links":[{"title":"x","url":"https://x.example/","startsAt":"2030-01-02T00:00:00Z","endsAt":"2030-01-01T00:00:00Z"}]}`,
		"unknown image": `{"handle":"bob","theme":"mint","avatar":"` + strings.Repeat("ab", 32) + `","links":[]}`,
		"long bio":      `{"handle":"bob","theme":"mint","bio":"` + strings.Repeat("x", 301) + `","links":[]}`,
		"control chars": `{"handle":"bob","theme":"mint","displayName":"a\u0007b","links":[]}`,
		"unknown field": `{"handle":"bob","theme":"mint","links":[],"css":"x"}`,
	} {
		r := n.Do("PUT", "/api/v1/profile", []byte(body), httpdtest.As(tok2)...)
		if r.Status != http.StatusUnprocessableEntity || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	mustStatus(t, "profile unchanged by bad input", n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok2)...), http.StatusNotFound)
	// 50 links is fine; mailto and tel links too.
	mustPutProfile(t, n, tok2, fiftyLinks("bob", 50))
	mustPutProfile(t, n, tok2, `{"handle":"bob","theme":"mint","links":[{"title":"Mail","url":"mailto:bob@example.com"},{"title":"Call","url":"tel:+1 555 123"}]}`)
}

// cdnLifetime is how long a shared cache may serve a response with this
// Cache-Control: s-maxage (or max-age) plus stale-while-revalidate.
func cdnLifetime(t *testing.T, cc string) time.Duration {
	t.Helper()
	var maxAge, sMaxAge, swr int
	for _, d := range strings.Split(cc, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(d), "=")
		var n int
		fmt.Sscan(v, &n)
		switch k {
		case "max-age":
			maxAge = n
		case "s-maxage":
			sMaxAge = n
		case "stale-while-revalidate":
			swr = n
		}
	}
	if sMaxAge == 0 {
		sMaxAge = maxAge
	}
	if sMaxAge+swr == 0 {
		t.Fatalf("no shared-cache lifetime in %q", cc)
	}
	return time.Duration(sMaxAge+swr) * time.Second
}

func redirect(t *testing.T, n *httpdtest.Node, code string) (int, string) {
	t.Helper()
	r := n.Do("GET", "/"+code, nil)
	return r.Status, r.Header.Get("Location")
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestProfilePageContract: size budget, no script, CSP, cache headers,
// Open Graph, Twitter card and JSON-LD.
func TestProfilePageContract(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "ada@example.com", pw)
	mustPutProfile(t, n, tok, fiftyLinks("ada", 50))
	r := n.Do("GET", "/@ada", nil, "Accept-Encoding", "gzip")
	if r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("page: %d %v", r.Status, r.Header)
	}
	if len(r.Body) > 14*1024 {
		t.Errorf("a 50-link page is %d bytes gzipped; the budget is 14 KiB", len(r.Body))
	}
	t.Logf("50-link page: %d bytes gzipped", len(r.Body))
	page := string(gunzip(t, r.Body))
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	if len(scripts) != 1 || scripts[0] != `<script type="application/ld+json">` {
		t.Errorf("scripts on the page: %v (only the JSON-LD data block is allowed)", scripts)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "img-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) || strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP %q lacks %q or allows too much", csp, want)
		}
	}
	for _, want := range []string{
		`<meta property="og:type" content="profile">`, `<meta property="og:title" content="Ada Lovelace">`,
		`<meta property="og:description" content="Mathematician.`, `<meta property="og:image" content="http://sho.rt/@ada/og.png">`,
		`<meta property="og:url" content="http://sho.rt/@ada">`, `<meta name="twitter:card" content="summary_large_image">`,
		`<link rel="canonical" href="http://sho.rt/@ada">`, `"@type":"ProfilePage"`, `"@type":"Person"`,
		`<nav aria-label="Social profiles">`, `<main>`, `lang="en"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "s-maxage=") || !strings.Contains(cc, "stale-while-revalidate=") {
		t.Errorf("Cache-Control %q", cc)
	}
	etag := r.Header.Get("ETag")
	mustStatus(t, "revalidation", n.Do("GET", "/@ada", nil, "If-None-Match", etag), http.StatusNotModified)
	// An edit changes the page at once (and its ETag).
	mustPutProfile(t, n, tok, strings.Replace(fiftyLinks("ada", 50), "Ada Lovelace", "Countess Lovelace", 1))
	r2 := n.Do("GET", "/@ada", nil)
	if r2.Header.Get("ETag") == etag || !strings.Contains(string(r2.Body), "Countess Lovelace") {
		t.Fatal("the edit did not reach the page")
	}
	mustStatus(t, "share image", n.Do("GET", "/@ada/og.png", nil), http.StatusOK)
	mustStatus(t, "unknown handle", n.Do("GET", "/@nobody", nil), http.StatusNotFound)
}

// TestProfileXSS puts markup and script URLs in every field.
func TestProfileXSS(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "eve@example.com", pw)
	evil := `<script>alert(1)</script>\"><img src=x onerror=alert(2)>`
	body := `{"handle":"eve","displayName":"` + evil + `","bio":"` + evil + `","theme":"classic","links":[
		{"title":"` + evil + `","url":"https://example.com/?q=<script>&x=\"onmouseover=alert(3)"},
		{"title":"` + evil + `","url":"https://example.com/s","social":true,"sensitive":true}]}`
	mustPutProfile(t, n, tok, body)
	for _, bad := range []string{`{"title":"x","url":"javascript:alert(1)"}`, `{"title":"x","url":"data:text/html,<script>alert(1)</script>"}`,
		`{"title":"x","url":"vbscript:msgbox(1)"}`} {
		mustStatus(t, bad, n.Do("PUT", "/api/v1/profile", []byte(`{"handle":"eve","theme":"classic","links":[`+bad+`]}`), httpdtest.As(tok)...), http.StatusUnprocessableEntity)
	}
	page := string(n.Do("GET", "/@eve", nil).Body)
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") || strings.Contains(page, "onerror=alert") && !strings.Contains(page, "onerror=alert(2)&gt;") {
		t.Fatalf("markup from a field reached the page unescaped:\n%s", page)
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Fatalf("%d script elements", n)
	}
	// The JSON-LD block escapes "<" so no field can close the script.
	ld := page[strings.Index(page, `<script type="application/ld+json">`):]
	ld = ld[:strings.Index(ld, "</script>")]
	if strings.Contains(ld[10:], "<") {
		t.Fatalf("JSON-LD has a raw <: %s", ld)
	}
	// The sensitive link goes through a warning page first.
	var p profileResp
	json.Unmarshal(n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...).Body, &p)
	warn := n.Do("GET", "/@eve/go/"+p.Links[1].Code, nil)
	if warn.Status != 200 || !strings.Contains(string(warn.Body), "Sensitive content") || strings.Contains(string(warn.Body), "<script>") {
		t.Fatalf("warning page: %d %s", warn.Status, warn.Body)
	}
	mustStatus(t, "no warning for a normal link", n.Do("GET", "/@eve/go/"+p.Links[0].Code, nil), http.StatusNotFound)
}

func TestProfileSchedulingAndViews(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "sam@example.com", pw)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	mustPutProfile(t, n, tok, `{"handle":"sam","theme":"classic","links":[
		{"title":"Now","url":"https://now.example/"},
		{"title":"Later","url":"https://later.example/","startsAt":"`+future+`"},
		{"title":"Over","url":"https://over.example/","endsAt":"`+past+`"},
		{"title":"Off","url":"https://off.example/","enabled":false}]}`)
	page := string(n.Do("GET", "/@sam", nil).Body)
	for _, hidden := range []string{"Later", "Over", "Off"} {
		if strings.Contains(page, ">"+hidden+"<") {
			t.Errorf("%s is shown", hidden)
		}
	}
	if !strings.Contains(page, ">Now<") {
		t.Fatal("the visible link is missing")
	}
	n.Do("GET", "/@sam", nil)
	n.Do("GET", "/_/v/sam.gif", nil) // the two page loads' view beacons
	n.Do("GET", "/_/v/sam.gif", nil)
	// Views are the page code's clicks; they arrive within the analytics lag.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var p profileResp
		json.Unmarshal(n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...).Body, &p)
		if p.Views != nil && *p.Views == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("views = %v, want 2", p.Views)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestImageUpload(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "img@example.com", pw)
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(10, 10, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	r := n.Do("POST", "/api/v1/images?kind=avatar", b.Bytes(), append(httpdtest.As(tok), "Content-Type", "image/png")...)
	mustStatus(t, "upload", r, http.StatusCreated)
	var up struct {
		ID, URL, Type string
		Width, Height int
	}
	json.Unmarshal(r.Body, &up)
	if up.Width != 400 || up.Height != 400 || up.Type != "image/jpeg" || up.URL != "/_/img/"+up.ID {
		t.Fatalf("upload: %+v", up)
	}
	got := n.Do("GET", up.URL, nil)
	if got.Status != 200 || got.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(got.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("serving: %d %v", got.Status, got.Header)
	}
	mustStatus(t, "not an image", n.Do("POST", "/api/v1/images?kind=avatar", []byte("<svg onload=alert(1)>"), httpdtest.As(tok)...), http.StatusUnprocessableEntity)
	mustStatus(t, "no kind", n.Do("POST", "/api/v1/images", b.Bytes(), httpdtest.As(tok)...), http.StatusUnprocessableEntity)
	mustStatus(t, "too large", n.Do("POST", "/api/v1/images?kind=avatar", make([]byte, 5<<20+1), httpdtest.As(tok)...), http.StatusRequestEntityTooLarge)
	p := mustPutProfile(t, n, tok, `{"handle":"imgs","theme":"classic","avatar":"`+up.ID+`","links":[]}`)
	page := string(n.Do("GET", "/@imgs", nil).Body)
	if !strings.Contains(page, `<img class="avatar" src="/_/img/`+up.ID+`"`) || !strings.Contains(page, `og:image" content="http://sho.rt/_/img/`+up.ID) {
		t.Fatalf("avatar not on the page %s: %s", p.Handle, page)
	}
}

func TestProfileHost(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{ProfileHost: "bio.example"})
	_, tok := n.User(t, "host@example.com", pw)
	p := mustPutProfile(t, n, tok, `{"handle":"hosted","theme":"classic","links":[{"title":"Site","url":"https://site.example/"}]}`)
	r := n.Do("GET", "/hosted", nil, "Host", "bio.example")
	if r.Status != 200 || !strings.Contains(string(r.Body), `href="http://sho.rt/`+p.Links[0].Code+`"`) {
		t.Fatalf("profile host: %d %s", r.Status, r.Body)
	}
	mustStatus(t, "the short link on the main host", n.Do("GET", "/"+p.Links[0].Code, nil), http.StatusFound)
	mustStatus(t, "health on the profile host", n.Do("GET", "/_/healthz", nil, "Host", "bio.example"), http.StatusOK)
	mustStatus(t, "unknown handle on the profile host", n.Do("GET", "/nobody", nil, "Host", "bio.example"), http.StatusNotFound)
}

func pngBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xc0
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// TestProfileEditorForm drives the editor without JavaScript: save with
// uploads, a field error that saves nothing, the ↓ button, CSRF.
func TestProfileEditorForm(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "ed@example.com", pw)
	if r := c.Get("/app/profile"); r.Status != 200 || !strings.Contains(string(r.Body), `id="f-handle" name="handle" type="text" value=""`) {
		t.Fatalf("editor: %d (\"ed\" is too short to suggest as a handle)", r.Status)
	}
	form := func(extra ...string) url.Values {
		v := url.Values{"handle": {"eddie"}, "displayName": {"Ed"}, "bio": {"Hi\r\nthere"}, "theme": {"forest"},
			"l0_order": {"0"}, "l0_title": {"One"}, "l0_url": {"https://one.example/"}, "l0_enabled": {"1"},
			"l1_order": {"1"}, "l1_title": {"Two"}, "l1_url": {"https://two.example/"}, "l1_enabled": {"1"},
			"l2_order": {"2"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	r := c.PostMultipart("/app/profile", form(), map[string][]byte{"avatar": pngBytes(t, 300, 300), "background": pngBytes(t, 2000, 1000)})
	mustStatus(t, "save", r, http.StatusSeeOther)
	var p struct {
		Bio         string
		Avatar      string
		CustomTheme struct{ BackgroundImage string }
		Links       []struct{ Code, Title string }
	}
	json.Unmarshal(n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...).Body, &p)
	if p.Bio != "Hi\nthere" || p.Avatar == "" || p.CustomTheme.BackgroundImage == "" || len(p.Links) != 2 || p.Links[0].Title != "One" {
		t.Fatalf("saved: %+v", p)
	}
	page := string(n.Do("GET", "/@eddie", nil).Body)
	if !strings.Contains(page, `url(&#34;/_/img/`+p.CustomTheme.BackgroundImage) && !strings.Contains(page, `url("/_/img/`+p.CustomTheme.BackgroundImage) {
		t.Fatalf("background image not in the page style")
	}

	c.Get("/app/profile")
	r = c.PostMultipart("/app/profile", form("l0_code", p.Links[0].Code, "l1_code", p.Links[1].Code, "avatarId", p.Avatar,
		"l1_url", "javascript:alert(1)"), nil)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `id="l1_url" name="l1_url" value="javascript:alert(1)" placeholder="https://…" inputmode="url" aria-invalid="true"`) {
		t.Fatalf("bad URL: %d", r.Status)
	}
	c.Get("/app/profile")
	r = c.PostMultipart("/app/profile", form("l0_code", p.Links[0].Code, "l1_code", p.Links[1].Code, "avatarId", p.Avatar,
		"move", "0:down"), nil)
	mustStatus(t, "move down", r, http.StatusSeeOther)
	json.Unmarshal(n.Do("GET", "/api/v1/profile", nil, httpdtest.As(tok)...).Body, &p)
	if p.Links[0].Title != "Two" || p.Links[1].Title != "One" {
		t.Fatalf("after ↓: %+v", p.Links)
	}
	mustStatus(t, "without CSRF", c.PostMultipart("/app/profile", url.Values{"csrf": {""}, "handle": {"x"}}, nil), http.StatusForbidden)

	// Enter in a field presses the form's first submit button: it must
	// be Save (no name), not a row's ↑ or "+ Add link".
	editor := string(c.Get("/app/profile").Body)
	form0 := editor[strings.Index(editor, `<form method="post" action="/app/profile"`):]
	if first := form0[strings.Index(form0, `<button`):]; !strings.HasPrefix(first, `<button type="submit" class="default-submit"`) {
		t.Fatalf("the form's first button is %.80s", first)
	}
}

// The editor's preview (what its "Update preview" button and script
// submit) is the public page's renderer fed with the unsaved form: hidden
// rows are left out, order is the form's, the console may frame it, and
// nothing is saved.
func TestProfileEditorPreview(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "pv@example.com", pw)
	mustPutProfile(t, n, tok, `{"handle":"pvw","displayName":"Saved","theme":"mint","links":[{"title":"Kept","url":"https://kept.example/"}]}`)
	saved := c.Get("/app/profile/preview")
	mustStatus(t, "saved preview", saved, http.StatusOK)
	if got := pageTitles(string(saved.Body)); got != "Kept" {
		t.Fatalf("saved preview shows %q", got)
	}
	c.Get("/app/profile")
	v := url.Values{"handle": {"pvw"}, "displayName": {"Draft <b>name</b>"}, "theme": {"midnight"}, "c_accent": {"#12"},
		"l0_order": {"1"}, "l0_title": {"First"}, "l0_url": {"https://first.example/"}, "l0_enabled": {"1"},
		"l1_order": {"0"}, "l1_title": {"Zero"}, "l1_url": {"https://zero.example/"}, "l1_enabled": {"1"},
		"l2_order": {"2"}, "l2_title": {"Hidden"}, "l2_url": {"https://hidden.example/"},
		"l3_order": {"3"}, "l3_title": {"Half typed"}, "l3_url": {"https:"}, "l3_enabled": {"1"}}
	r := c.PostMultipart("/app/profile/preview", v, nil)
	mustStatus(t, "draft preview", r, http.StatusOK)
	body := string(r.Body)
	if got := pageTitles(body); got != "Zero,First,Half typed" {
		t.Fatalf("draft preview shows %q", got)
	}
	if !strings.Contains(body, "Draft &lt;b&gt;name&lt;/b&gt;") || strings.Contains(body, "<script src") {
		t.Fatalf("draft preview: name not escaped or a script loaded")
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Fatalf("preview CSP %q", csp)
	}
	if pub := n.Do("GET", "/@pvw", nil, "Authorization", ""); !strings.Contains(pub.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		pageTitles(string(pub.Body)) != "Kept" || !strings.Contains(string(pub.Body), "Saved") {
		t.Fatalf("the preview changed the saved page: %q", pageTitles(string(pub.Body)))
	}
}

var pageLinkTitle = regexp.MustCompile(`<a class="btn"[^>]*>.*?<span>([^<]*)</span>`)

// pageTitles lists the titles of a profile page's links, in order.
func pageTitles(html string) string {
	var ts []string
	for _, m := range pageLinkTitle.FindAllStringSubmatch(html, -1) {
		ts = append(ts, m[1])
	}
	return strings.Join(ts, ",")
}

// Deleting a user deletes their profile, frees the handle and removes the
// images they uploaded.
func TestDeleteUserDeletesProfile(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tok := n.User(t, "gone@example.com", pw)
	r := n.Do("POST", "/api/v1/images?kind=avatar", pngBytes(t, 100, 100), httpdtest.As(tok)...)
	var img struct{ ID, URL string }
	json.Unmarshal(r.Body, &img)
	mustPutProfile(t, n, tok, `{"handle":"gone","theme":"classic","avatar":"`+img.ID+`","links":[{"title":"x","url":"https://x.example/"}]}`)
	var me struct{ ID uint64 }
	json.Unmarshal(n.Do("GET", "/api/v1/me", nil, httpdtest.As(tok)...).Body, &me)
	mustStatus(t, "delete", n.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", me.ID), nil), http.StatusNoContent)
	mustStatus(t, "page", n.Do("GET", "/@gone", nil), http.StatusNotFound)
	mustStatus(t, "avatar", n.Do("GET", img.URL, nil), http.StatusNotFound)
	_, tok2 := n.User(t, "next@example.com", pw)
	mustPutProfile(t, n, tok2, `{"handle":"gone","theme":"classic","links":[]}`)
}
