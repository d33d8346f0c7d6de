package httpd_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd/httpdtest"
)

// optLink is the options part of a link as the API shows it.
type optLink struct {
	Code              string
	URL               string
	PasswordProtected bool
	StartsAt          *string
	FallbackURL       string
	MaxVisits         uint64
	ForwardQuery      bool
	ForwardPath       bool
	QueryPrecedence   string
	Rules             []struct {
		If  map[string]any
		URL string
	}
	Variants []struct {
		URL    string
		Weight int
	}
}

func createOpts(t *testing.T, n *httpdtest.Node, body string) optLink {
	t.Helper()
	return mustJSON[optLink](t, n.Do("POST", "/api/v1/links", []byte(body)), 201)
}

// visit follows nothing and returns the status and Location.
func visit(t *testing.T, n *httpdtest.Node, path string, header ...string) (int, string) {
	t.Helper()
	r := n.Do("GET", path, nil, append([]string{"Authorization", ""}, header...)...)
	return r.Status, r.Header.Get("Location")
}

// Every option round-trips through the API: create, GET, PATCH; the
// password is write-only and its hash never appears.
func TestLinkOptionsAPI(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := createOpts(t, n, `{"url":"https://e.test/a","password":"hunter22","startsAt":"2020-01-01T00:00:00Z",
		"fallbackUrl":"https://e.test/fb","maxVisits":5,"forwardQuery":false,"forwardPath":true,"queryPrecedence":"visitor",
		"rules":[{"if":{"os":["iOS"],"language":["DE"]},"url":"https://apps.apple.com/de/app/x"}],
		"variants":[{"url":"https://e.test/A","weight":30},{"url":"https://e.test/B","weight":70}]}`)
	if !l.PasswordProtected || l.StartsAt == nil || *l.StartsAt != "2020-01-01T00:00:00Z" || l.FallbackURL != "https://e.test/fb" ||
		l.MaxVisits != 5 || l.ForwardQuery || !l.ForwardPath || l.QueryPrecedence != "visitor" || len(l.Rules) != 1 ||
		l.Rules[0].URL != "https://apps.apple.com/de/app/x" || len(l.Variants) != 2 || l.Variants[1].Weight != 70 {
		t.Fatalf("created: %+v", l)
	}
	r := n.Do("GET", "/api/v1/links/"+l.Code, nil)
	if strings.Contains(string(r.Body), "argon2") || strings.Contains(string(r.Body), "hunter22") {
		t.Fatalf("GET shows the password or its hash: %s", r.Body)
	}
	if got := mustJSON[optLink](t, r, 200); got.Rules[0].If["os"].([]any)[0] != "ios" || got.Rules[0].If["language"].([]any)[0] != "de" {
		t.Fatalf("rules not normalised: %+v", got.Rules)
	}
	p := mustJSON[optLink](t, n.Do("PATCH", "/api/v1/links/"+l.Code, []byte(`{"password":null,"maxVisits":null,"forwardQuery":true,"rules":[]}`)), 200)
	if p.PasswordProtected || p.MaxVisits != 0 || !p.ForwardQuery || len(p.Rules) != 0 || len(p.Variants) != 2 {
		t.Fatalf("patched: %+v", p)
	}
	plain := createOpts(t, n, `{"url":"https://e.test/p"}`)
	if !plain.ForwardQuery || plain.ForwardPath || plain.QueryPrecedence != "destination" || plain.PasswordProtected {
		t.Fatalf("defaults: %+v", plain)
	}
}

// Invalid options are problem+json with one field error each, and change
// nothing.
func TestLinkOptionsValidation(t *testing.T) {
	n := httpdtest.Start(t, "")
	for body, field := range map[string]string{
		`{"url":"https://e.test","password":"ab"}`:                                                                            "password",
		`{"url":"https://e.test","startsAt":"tomorrow"}`:                                                                      "startsAt",
		`{"url":"https://e.test","fallbackUrl":"javascript:alert(1)"}`:                                                        "fallbackUrl",
		`{"url":"https://e.test","queryPrecedence":"mine"}`:                                                                   "queryPrecedence",
		`{"url":"https://e.test","rules":[{"if":{"os":["beos"]},"url":"https://e.test/b"}]}`:                                  "rules[0].if.os",
		`{"url":"https://e.test","rules":[{"if":{},"url":"https://e.test/b"}]}`:                                               "rules[0].if",
		`{"url":"https://e.test","variants":[{"url":"https://e.test/a","weight":50},{"url":"https://e.test/b","weight":40}]}`: "variants",
		`{"url":"https://e.test","maxVisits":-1}`:                                                                             "maxVisits",
	} {
		mustProblem(t, n.Do("POST", "/api/v1/links", []byte(body)), 422, field)
	}
	l := createOpts(t, n, `{"url":"https://e.test"}`)
	mustProblem(t, n.Do("PATCH", "/api/v1/links/"+l.Code, []byte(`{"variants":[{"url":"https://e.test/a","weight":100}]}`)), 422, "variants")
	mustProblem(t, n.Do("POST", "/api/v1/links/"+l.Code+"/promote", []byte(`{"variant":0}`)), 422, "variant")
	if got := mustJSON[optLink](t, n.Do("GET", "/api/v1/links/"+l.Code, nil), 200); len(got.Variants) != 0 {
		t.Fatalf("a refused patch changed the link: %+v", got)
	}
}

// startsAt: 404 with a "not yet available" page before it; expiry with a
// fallback redirects there instead of 410.
func TestLinkScheduleAndFallback(t *testing.T) {
	n := httpdtest.Start(t, "")
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	l := createOpts(t, n, `{"url":"https://e.test/a","startsAt":"`+later+`"}`)
	r := n.Do("GET", "/"+l.Code, nil, "Authorization", "")
	if r.Status != 404 || !strings.Contains(string(r.Body), "not available yet") {
		t.Fatalf("before startsAt: %d %s", r.Status, r.Body)
	}
	soon := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	f := createOpts(t, n, `{"url":"https://e.test/a","expiresAt":"`+soon+`","fallbackUrl":"https://e.test/after"}`)
	g := createOpts(t, n, `{"url":"https://e.test/a","expiresAt":"`+soon+`"}`)
	time.Sleep(time.Until(time.Now().Add(1100 * time.Millisecond)))
	if st, loc := visit(t, n, "/"+f.Code); st != 302 || loc != "https://e.test/after" {
		t.Fatalf("expired with fallback: %d %q", st, loc)
	}
	if st, _ := visit(t, n, "/"+g.Code); st != 410 {
		t.Fatalf("expired without fallback: %d", st)
	}
}

// forwardQuery (on by default) merges the visitor's query, the
// destination's parameters winning unless queryPrecedence is "visitor";
// forwardPath appends /extra/path; neither decodes what the visitor sent.
func TestLinkForwarding(t *testing.T) {
	n := httpdtest.Start(t, "")
	plain := createOpts(t, n, `{"url":"https://e.test/a?src=link"}`)
	visitor := createOpts(t, n, `{"url":"https://e.test/a?src=link","queryPrecedence":"visitor"}`)
	off := createOpts(t, n, `{"url":"https://e.test/a?src=link","forwardQuery":false}`)
	path := createOpts(t, n, `{"url":"https://e.test/docs/","forwardPath":true}`)
	for _, tc := range []struct{ path, want string }{
		{"/" + plain.Code, "https://e.test/a?src=link"},
		{"/" + plain.Code + "?utm_source=x&src=mine", "https://e.test/a?src=link&utm_source=x"},
		{"/" + visitor.Code + "?utm_source=x&src=mine", "https://e.test/a?utm_source=x&src=mine"},
		{"/" + off.Code + "?utm_source=x", "https://e.test/a?src=link"},
		{"/" + path.Code + "/guide/intro?x=1", "https://e.test/docs/guide/intro?x=1"},
		{"/" + path.Code + "/a%3Fb%0D%0Ac", "https://e.test/docs/a%3Fb%0D%0Ac"},
	} {
		if st, loc := visit(t, n, tc.path); st != 302 || loc != tc.want {
			t.Errorf("GET %s: %d %q, want 302 %q", tc.path, st, loc, tc.want)
		}
	}
	for _, p := range []string{"/" + plain.Code + "/extra", "/" + path.Code + "/../admin", "/" + path.Code + "/%2e%2E/admin", "/" + path.Code + "/a/./b"} {
		if st, _ := visit(t, n, p); st != 404 {
			t.Errorf("GET %s: %d, want 404", p, st)
		}
	}
}

// Rules see real browsers' User-Agent and Accept-Language headers and the
// country a trusted proxy reports; the first matching rule wins.
func TestLinkRulesRealHeaders(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := createOpts(t, n, `{"url":"https://e.test/default","rules":[
		{"if":{"os":["ios"],"language":["de"]},"url":"https://apps.apple.com/de/app/x"},
		{"if":{"os":["ios"]},"url":"https://apps.apple.com/app/x"},
		{"if":{"os":["android"]},"url":"https://play.google.com/store/apps/details?id=x"},
		{"if":{"device":["tablet"]},"url":"https://e.test/tablet"},
		{"if":{"language":["pt-br"]},"url":"https://e.test/br"},
		{"if":{"country":["FR"]},"url":"https://e.test/fr"},
		{"if":{"query":{"ref":["news"]}},"url":"https://e.test/news"}]}`)
	const (
		iphone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
		ipad    = "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
		pixel   = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
		tab     = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
		windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
		mac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
		linux   = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	)
	for _, tc := range []struct{ ua, lang, country, query, want string }{
		{iphone, "de-DE,de;q=0.9,en;q=0.8", "", "", "https://apps.apple.com/de/app/x"},
		{iphone, "en-US,en;q=0.9,de;q=0.8", "", "", "https://apps.apple.com/app/x"},
		{iphone, "en;q=0.5,de-AT;q=0.9", "", "", "https://apps.apple.com/de/app/x"},
		{ipad, "fr-FR", "", "", "https://apps.apple.com/app/x"},
		{pixel, "de", "", "", "https://play.google.com/store/apps/details?id=x"},
		{tab, "en", "", "", "https://play.google.com/store/apps/details?id=x"},
		{windows, "pt-BR,pt;q=0.9", "", "", "https://e.test/br"},
		{mac, "pt-PT,pt;q=0.9", "", "", "https://e.test/default"},
		{linux, "fr-FR,fr;q=0.9", "FR", "", "https://e.test/fr"},
		{windows, "en-GB", "DE", "?ref=news", "https://e.test/news?ref=news"},
		{windows, "en-GB", "DE", "?ref=blog", "https://e.test/default?ref=blog"},
		{windows, "", "", "", "https://e.test/default"},
	} {
		h := []string{"User-Agent", tc.ua, "Accept-Language", tc.lang}
		if tc.country != "" {
			h = append(h, "CF-IPCountry", tc.country)
		}
		if st, loc := visit(t, n, "/"+l.Code+tc.query, h...); st != 302 || loc != tc.want {
			t.Errorf("%.40s / %q / %q: %d %q, want %q", tc.ua, tc.lang, tc.country, st, loc, tc.want)
		}
	}
}

// The preview explains the options and which one applies to the viewer.
func TestLinkOptionsPreview(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := createOpts(t, n, `{"url":"https://e.test/default","maxVisits":9,"rules":[{"if":{"os":["android"]},"url":"https://e.test/android"}],
		"variants":[{"url":"https://e.test/A","weight":50},{"url":"https://e.test/B","weight":50}]}`)
	r := n.Do("GET", "/"+l.Code+"+", nil, "Authorization", "", "User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile")
	b := string(r.Body)
	for _, want := range []string{"Rule 1: if OS is android", "Variant B: 50% of visitors", "Rule 1 applies to you.", "Limited to 9 visits."} {
		if r.Status != 200 || !strings.Contains(b, want) {
			t.Fatalf("preview lacks %q: %d %s", want, r.Status, b)
		}
	}
	locked := createOpts(t, n, `{"url":"https://secret.test/x","password":"hunter22"}`)
	r = n.Do("GET", "/"+locked.Code+"+", nil, "Authorization", "")
	if strings.Contains(string(r.Body), "secret.test") || !strings.Contains(string(r.Body), "password protected") {
		t.Fatalf("preview of a password-protected link: %s", r.Body)
	}
}

// A password-protected link shows a form; the right password (with the
// form's CSRF token) sets a cookie that redirects from then on; a wrong
// one, a cross-site post or a missing token does not; guessing is
// budgeted per address.
func TestLinkPassword(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := createOpts(t, n, `{"url":"https://secret.test/x","password":"hunter22"}`)
	jar := newJar(t)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func() *http.Response {
		resp, err := c.Get(n.URL + "/" + l.Code)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	form := func() (string, *http.Response) {
		resp, err := c.Get(n.URL + "/" + l.Code)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body := readAll(t, resp)
		i := strings.Index(body, `name="csrf" value="`)
		if resp.StatusCode != 200 || i < 0 || strings.Contains(body, "secret.test") {
			t.Fatalf("password page: %d %s", resp.StatusCode, body)
		}
		rest := body[i+len(`name="csrf" value="`):]
		return rest[:strings.IndexByte(rest, '"')], resp
	}
	post := func(pw, tok string, header ...string) *http.Response {
		req, _ := http.NewRequest("POST", n.URL+"/"+l.Code, strings.NewReader(url.Values{"password": {pw}, "csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	tok, _ := form()
	if r := post("wrong-one", tok); r.StatusCode != 403 {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	form() // a fresh form: its token is not sent
	if r := post("hunter22", ""); r.StatusCode != 403 {
		t.Fatalf("no token: %d", r.StatusCode)
	}
	tok, _ = form()
	if r := post("hunter22", tok, "Origin", "https://evil.test"); r.StatusCode != 403 {
		t.Fatalf("cross-site post: %d", r.StatusCode)
	}
	tok, _ = form()
	if r := post("hunter22", tok); r.StatusCode != 303 {
		t.Fatalf("right password: %d", r.StatusCode)
	}
	if r := get(); r.StatusCode != 302 || r.Header.Get("Location") != "https://secret.test/x" {
		t.Fatalf("after unlocking: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Changing the password forgets the cookie.
	mustJSON[optLink](t, n.Do("PATCH", "/api/v1/links/"+l.Code, []byte(`{"password":"another-pw"}`)), 200)
	if r := get(); r.StatusCode != 200 {
		t.Fatalf("after a password change: %d", r.StatusCode)
	}
	// The address's budget (10 a minute, burst 10) runs out: 429.
	var last int
	for i := 0; i < 12; i++ {
		tok, _ = form()
		last = post("wrong-again", tok).StatusCode
	}
	if last != 429 {
		t.Fatalf("12 guesses from one address: last status %d, want 429", last)
	}
}

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	j, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func readAll(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Per-variant clicks reach the analytics API; promoting the winner makes
// it the link's URL and ends the split.
func TestVariantAnalyticsAndPromote(t *testing.T) {
	n := httpdtest.Start(t, "")
	l := createOpts(t, n, `{"url":"https://e.test/","variants":[{"url":"https://e.test/a","weight":50},{"url":"https://e.test/b","weight":50}]}`)
	seen := map[string]int{}
	const visits = 30
	for i := range visits {
		_, loc := visit(t, n, "/"+l.Code, "User-Agent", firefox, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		seen[loc]++
	}
	type rep struct {
		Humans   uint64
		Variants []struct {
			Index   int
			Label   string
			Clicks  int
			Percent float64
		}
	}
	var r rep
	deadline := time.Now().Add(10 * httpdtest.AnalyticsLag)
	for r.Humans < visits && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		r = mustJSON[rep](t, n.Do("GET", "/api/v1/links/"+l.Code+"/analytics?interval=hour", nil), 200)
	}
	if len(r.Variants) != 2 || r.Variants[0].Label != "A" || r.Variants[0].Clicks != seen["https://e.test/a"] ||
		r.Variants[1].Clicks != seen["https://e.test/b"] || r.Variants[0].Percent+r.Variants[1].Percent < 99.9 {
		t.Fatalf("variants %+v, redirects %v", r.Variants, seen)
	}
	p := mustJSON[optLink](t, n.Do("POST", "/api/v1/links/"+l.Code+"/promote", []byte(`{"variant":1}`)), 200)
	if p.URL != "https://e.test/b" || len(p.Variants) != 0 {
		t.Fatalf("promoted: %+v", p)
	}
	if st, loc := visit(t, n, "/"+l.Code); st != 302 || loc != "https://e.test/b" {
		t.Fatalf("after promoting: %d %q", st, loc)
	}
}

// TestIdempotencyRecordHidesPassword: an Idempotency-Key stores a hash of
// the request body in replicated state. A body with a link's password must
// not leave its plain SHA-256 there (a dictionary attack away from the
// password): the whole state, as a backup streams it, holds no such bytes,
// and a retry still replays.
func TestIdempotencyRecordHidesPassword(t *testing.T) {
	n := httpdtest.Start(t, "")
	body := `{"url":"https://e.test/secret","password":"hunter22"}`
	a := mustCreate(t, n, body, "Idempotency-Key", "pw-1")
	if b := mustCreate(t, n, body, "Idempotency-Key", "pw-1"); b.Code != a.Code {
		t.Fatalf("retry made %s, first %s", b.Code, a.Code)
	}
	r := n.Do("GET", "/api/v1/backup", nil)
	if r.Status != 200 || len(r.Body) == 0 {
		t.Fatalf("backup: %d", r.Status)
	}
	plain := sha256.Sum256([]byte(body))
	if bytes.Contains(r.Body, plain[:]) {
		t.Fatal("the replicated state holds the plain SHA-256 of a body with a password")
	}
}
