package httpd_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkd/linkd/httpd"
	"github.com/linkd/linkd/httpd/httpdtest"
	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ratelimit"
)

// TestClientIPHeaderOnlyConfigured: behind a proxy that maintains
// X-Forwarded-For (the configured header), a client that rotates
// CF-Connecting-IP is still one client to the per-address budgets.
func TestClientIPHeaderOnlyConfigured(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{RedirectsPerIP: ratelimit.Limit{Rate: 0.01, Burst: 5}}})
	code := mustCreateLink(t, n, httpdtest.Token, `{"url":"https://rl.example/"}`)
	for i := 0; i < 5; i++ {
		mustStatus(t, fmt.Sprint("redirect ", i), n.Do("GET", "/"+code, nil, "X-Forwarded-For", "198.51.100.1"), http.StatusFound)
	}
	for i := 0; i < 3; i++ {
		r := n.Do("GET", "/"+code, nil, "X-Forwarded-For", "198.51.100.1", "CF-Connecting-IP", fmt.Sprintf("203.0.113.%d", i+1),
			"X-Real-IP", fmt.Sprintf("192.0.2.%d", i+1))
		mustStatus(t, "rotated CF-Connecting-IP / X-Real-IP", r, http.StatusTooManyRequests)
	}
	mustStatus(t, "another client by the configured header", n.Do("GET", "/"+code, nil, "X-Forwarded-For", "198.51.100.2"), http.StatusFound)
}

// TestLoginLockoutByStranger: a stranger who spends the per-email budget
// from their own address does not lock the owner out at the owner's
// address, and past the global failure budget failures are answered late.
func TestLoginLockoutByStranger(t *testing.T) {
	n := httpdtest.StartWith(t, httpdtest.Options{Limits: httpd.Limits{
		LoginsPerEmail:        ratelimit.PerMinute(1, 3),
		LoginFailuresPerEmail: ratelimit.PerMinute(0.01, 4),
	}})
	n.Do("POST", "/api/v1/users", []byte(`{"email":"owner@example.com","password":"`+pw+`"}`))
	attacker := n.NewConsole(t)
	attacker.Header = http.Header{"X-Forwarded-For": {"203.0.113.66"}}
	attacker.Get("/app/login")
	for i := 0; i < 3; i++ {
		mustStatus(t, "attacker guesses", attacker.Post("/app/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	}
	mustStatus(t, "attacker is throttled", attacker.Post("/app/login", url.Values{"email": {"Owner@example.com"}, "password": {"wrong password!"}}), http.StatusTooManyRequests)
	// A second attacker address spends the global failure budget.
	other := n.NewConsole(t)
	other.Header = http.Header{"X-Forwarded-For": {"203.0.113.67"}}
	other.Get("/app/login")
	mustStatus(t, "second address guesses", other.Post("/app/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	start := time.Now()
	mustStatus(t, "guess past the global budget", other.Post("/app/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized)
	if d := time.Since(start); d < httpx.LoginSlowdown {
		t.Errorf("a failure past the global budget was answered in %v, want at least %v", d, httpx.LoginSlowdown)
	}
	owner := n.NewConsole(t)
	owner.Header = http.Header{"X-Forwarded-For": {"198.51.100.10"}}
	owner.Login("owner@example.com", pw)
	mustStatus(t, "owner is in", owner.Get("/app/links"), http.StatusOK)
}

// TestKeyManagementNeedsKeysWrite: a links:read key can neither mint nor
// revoke keys; keys:write (or a console session) can.
func TestKeyManagementNeedsKeysWrite(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, _ := n.User(t, "km@example.com", pw)
	read := c.NewKey("reader", "links:read")
	other := c.NewKey("other", "links:read")
	keys := mustDecode[struct{ Items []struct{ ID, Name string } }](t, n.Do("GET", "/api/v1/keys", nil, httpdtest.As(read)...))
	var otherID string
	for _, k := range keys.Items {
		if k.Name == "other" {
			otherID = k.ID
		}
	}
	mustStatus(t, "links:read key mints a key", n.Do("POST", "/api/v1/keys", []byte(`{"name":"w","scopes":["links:read"]}`), httpdtest.As(read)...), http.StatusForbidden)
	mustStatus(t, "links:read key revokes a key", n.Do("DELETE", "/api/v1/keys/"+otherID, nil, httpdtest.As(read)...), http.StatusForbidden)
	mustStatus(t, "the other key still works", n.Do("GET", "/api/v1/me", nil, httpdtest.As(other)...), http.StatusOK)
	kw := c.NewKey("manager", "links:read", "keys:write")
	mustStatus(t, "keys:write key mints a key", n.Do("POST", "/api/v1/keys", []byte(`{"name":"w","scopes":["links:read"]}`), httpdtest.As(kw)...), http.StatusCreated)
	mustStatus(t, "keys:write key revokes a key", n.Do("DELETE", "/api/v1/keys/"+otherID, nil, httpdtest.As(kw)...), http.StatusNoContent)
}

// TestChildKeyExpiryAndRevocation: a key made by a key expiring soon
// expires with it (clamped), and revoking the parent revokes its children
// and grandchildren.
func TestChildKeyExpiryAndRevocation(t *testing.T) {
	n := httpdtest.Start(t, "")
	n.User(t, "ck@example.com", pw)
	type key struct {
		ID, Token string
		ExpiresAt *string
	}
	mk := func(as, body string) key {
		r := n.Do("POST", "/api/v1/keys", []byte(body), httpdtest.As(as)...)
		mustStatus(t, "create "+body, r, http.StatusCreated)
		return mustDecode[key](t, r)
	}
	// The root is made by a console session, so it has no parent.
	c2 := n.NewConsole(t)
	c2.Login("ck@example.com", pw)
	root := c2.NewKey("root", "links:read", "keys:write")
	soon := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	parent := mk(root, `{"name":"parent","scopes":["links:read","keys:write"],"expiresAt":"`+soon.Format(time.RFC3339)+`"}`)
	child := mk(parent.Token, `{"name":"child","scopes":["links:read","keys:write"]}`)
	if child.ExpiresAt == nil {
		t.Fatal("a key made by a key expiring in an hour has no expiry")
	}
	if e, err := time.Parse(time.RFC3339, *child.ExpiresAt); err != nil || e.After(soon) {
		t.Fatalf("child expires %v (%v), after its parent's %v", *child.ExpiresAt, err, soon)
	}
	later := mk(parent.Token, `{"name":"later","scopes":["links:read"],"expiresAt":"2099-01-01T00:00:00Z"}`)
	if e, _ := time.Parse(time.RFC3339, *later.ExpiresAt); e.After(soon) {
		t.Fatalf("a later expiry was not clamped: %v", *later.ExpiresAt)
	}
	grandchild := mk(child.Token, `{"name":"grandchild","scopes":["links:read"]}`)
	mustStatus(t, "grandchild works", n.Do("GET", "/api/v1/me", nil, httpdtest.As(grandchild.Token)...), http.StatusOK)
	mustStatus(t, "revoke the parent", n.Do("DELETE", "/api/v1/keys/"+parent.ID, nil, httpdtest.As(root)...), http.StatusNoContent)
	for name, k := range map[string]key{"child": child, "later": later, "grandchild": grandchild} {
		mustStatus(t, name+" after its ancestor was revoked", n.Do("GET", "/api/v1/me", nil, httpdtest.As(k.Token)...), http.StatusUnauthorized)
	}
	mustStatus(t, "the root is untouched", n.Do("GET", "/api/v1/me", nil, httpdtest.As(root)...), http.StatusOK)
}

// TestSignUpNoEnumeration: a sign-up with a bogus invite answers the same
// for a registered email (in any case) and an unknown one.
func TestSignUpNoEnumeration(t *testing.T) {
	n := httpdtest.Start(t, "")
	n.User(t, "known@example.com", pw)
	var answers []httpdtest.Response
	for _, email := range []string{"known@example.com", "KNOWN@example.com", "unknown@example.com"} {
		c := n.NewConsole(t)
		c.Get("/app/signup?invite=bogus")
		answers = append(answers, c.Post("/app/signup", url.Values{"email": {email}, "password": {pw}, "invite": {"bogus"}}))
	}
	alert := func(b []byte) string {
		s := string(b)
		if i := strings.Index(s, `role="alert">`); i >= 0 {
			s = s[i:]
			return s[:strings.Index(s, "<")]
		}
		return ""
	}
	for i, r := range answers {
		mustStatus(t, fmt.Sprint("sign-up ", i), r, http.StatusForbidden)
		if a := alert(r.Body); a != alert(answers[0].Body) || a == "" || strings.Contains(a, "registered") || strings.Contains(a, "Another account") {
			t.Errorf("sign-up %d answers %q, sign-up 0 %q", i, a, alert(answers[0].Body))
		}
	}
}

// TestProfileLinksOnlyThroughProfile: a links:write key can neither point
// a profile button elsewhere nor move or delete the page link; the profile
// (profile:write) changes them, and then the page, the editor's data and
// the redirect agree.
func TestProfileLinksOnlyThroughProfile(t *testing.T) {
	n := httpdtest.Start(t, "")
	c, tok := n.User(t, "pl@example.com", pw)
	linksOnly := c.NewKey("links", "links:read", "links:write")
	p := mustPutProfile(t, n, tok, `{"handle":"plink","theme":"mint","links":[{"title":"Shop","url":"https://shop.example/"}]}`)
	code := p.Links[0].Code
	for name, r := range map[string]httpdtest.Response{
		"PATCH a profile link":        n.Do("PATCH", "/api/v1/links/"+code, []byte(`{"url":"https://evil.example/"}`), httpdtest.As(linksOnly)...),
		"PATCH the page link":         n.Do("PATCH", "/api/v1/links/"+p.PageCode, []byte(`{"url":"https://evil.example/"}`), httpdtest.As(linksOnly)...),
		"DELETE a profile link":       n.Do("DELETE", "/api/v1/links/"+code, nil, httpdtest.As(linksOnly)...),
		"PATCH with every user scope": n.Do("PATCH", "/api/v1/links/"+code, []byte(`{"url":"https://evil.example/"}`), httpdtest.As(tok)...),
	} {
		mustStatus(t, name, r, http.StatusForbidden)
	}
	if st, loc := redirect(t, n, code); st != http.StatusFound || loc != "https://shop.example/" {
		t.Fatalf("after refused patches the button redirects %d %q", st, loc)
	}
	// The profile changes it, and everything agrees.
	p2 := mustPutProfile(t, n, tok, `{"handle":"plink","theme":"mint","links":[{"code":"`+code+`","title":"Shop","url":"https://shop2.example/"}]}`)
	if st, loc := redirect(t, n, code); st != http.StatusFound || loc != "https://shop2.example/" || p2.Links[0].URL != "https://shop2.example/" {
		t.Fatalf("after the profile changed it: redirect %d %q, profile %q", st, loc, p2.Links[0].URL)
	}
	pub := n.Do("GET", "/api/v1/profiles/plink", nil, "Authorization", "")
	if !strings.Contains(string(pub.Body), "https://shop2.example/") || strings.Contains(string(pub.Body), "https://shop.example/") {
		t.Fatalf("public profile disagrees: %s", pub.Body)
	}
	// An ordinary link of the same user is still the links API's.
	other := mustCreateLink(t, n, linksOnly, `{"url":"https://plain.example/"}`)
	mustStatus(t, "PATCH a plain link", n.Do("PATCH", "/api/v1/links/"+other, []byte(`{"url":"https://plain2.example/"}`), httpdtest.As(linksOnly)...), http.StatusOK)
	// An admin may still block a profile link (a takedown), but not move it.
	mustStatus(t, "admin moves a profile link", n.Do("PATCH", "/api/v1/links/"+code, []byte(`{"url":"https://evil.example/"}`)), http.StatusForbidden)
	mustStatus(t, "admin blocks a profile link", n.Do("PATCH", "/api/v1/links/"+code, []byte(`{"status":"blocked"}`)), http.StatusOK)
}

// uploadImage posts a PNG as an avatar and returns the answer and the id.
func uploadImage(t *testing.T, n *httpdtest.Node, tok string, body []byte) (httpdtest.Response, string) {
	t.Helper()
	r := n.Do("POST", "/api/v1/images?kind=avatar", body, append(httpdtest.As(tok), "Content-Type", "image/png")...)
	var img struct{ ID string }
	json.Unmarshal(r.Body, &img)
	return r, img.ID
}

// TestUploadQuota: a user's uploads stop at the quota (422, nothing
// stored), and what was stored fits in it.
func TestUploadQuota(t *testing.T) {
	const quota = 256 << 10
	n := httpdtest.StartWith(t, httpdtest.Options{UploadQuota: quota})
	_, tok := n.User(t, "quota@example.com", pw)
	stored, refused := 0, false
	for i := 0; i < 40 && !refused; i++ {
		r, id := uploadImage(t, n, tok, noisyPNG(t, 200, int64(i)))
		switch r.Status {
		case http.StatusCreated:
			stored += len(n.Do("GET", "/_/img/"+id, nil).Body)
		case http.StatusUnprocessableEntity:
			refused = true
		default:
			t.Fatalf("upload %d: %d %s", i, r.Status, r.Body)
		}
	}
	if !refused || stored == 0 || stored > quota {
		t.Fatalf("refused %v after storing %d bytes (quota %d)", refused, stored, quota)
	}
}

// TestUploadsDeletedWithUserAndNotShared: deleting a user deletes every
// image they uploaded, shown on their profile or not; another user cannot
// put someone else's upload on their profile (so a deletion never breaks
// another page), but uploading the same bytes makes the image theirs too.
func TestUploadsDeletedWithUserAndNotShared(t *testing.T) {
	n := httpdtest.Start(t, "")
	_, tokA := n.User(t, "upa@example.com", pw)
	_, tokB := n.User(t, "upb@example.com", pw)
	_, unused := uploadImage(t, n, tokA, noisyPNG(t, 120, 1))
	sharedBytes := noisyPNG(t, 120, 2)
	_, shared := uploadImage(t, n, tokA, sharedBytes)
	_, onlyA := uploadImage(t, n, tokA, noisyPNG(t, 120, 3))
	mustPutProfile(t, n, tokA, `{"handle":"upa","theme":"classic","avatar":"`+onlyA+`","links":[]}`)
	mustStatus(t, "B shows A's upload", n.Do("PUT", "/api/v1/profile", []byte(`{"handle":"upb","theme":"classic","avatar":"`+shared+`","links":[]}`), httpdtest.As(tokB)...), http.StatusUnprocessableEntity)
	if _, id := uploadImage(t, n, tokB, sharedBytes); id != shared {
		t.Fatalf("the same bytes got another id: %s vs %s", id, shared)
	}
	mustPutProfile(t, n, tokB, `{"handle":"upb","theme":"classic","avatar":"`+shared+`","links":[]}`)
	var me struct{ ID uint64 }
	json.Unmarshal(n.Do("GET", "/api/v1/me", nil, httpdtest.As(tokA)...).Body, &me)
	mustStatus(t, "delete A", n.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", me.ID), nil), http.StatusNoContent)
	mustStatus(t, "A's unused upload", n.Do("GET", "/_/img/"+unused, nil), http.StatusNotFound)
	mustStatus(t, "A's avatar", n.Do("GET", "/_/img/"+onlyA, nil), http.StatusNotFound)
	mustStatus(t, "B's avatar, also uploaded by A", n.Do("GET", "/_/img/"+shared, nil), http.StatusOK)
}

// noisyPNG is a w×w PNG of seeded noise: distinct seeds give distinct
// images, and noise keeps the re-encoded JPEG from being tiny.
func noisyPNG(t *testing.T, w int, seed int64) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, w))
	rnd := rand.New(rand.NewSource(seed))
	rnd.Read(img.Pix)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
