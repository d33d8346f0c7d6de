package public

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"html/template"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/password"
	"github.com/linkd/linkd/httpd/ratelimit"
	"github.com/linkd/linkd/store"
)

// Password-protected links. A visitor without a valid unlock cookie gets a
// small form (no script) that posts the password back to the link itself.
//
//   - CSRF: the form carries a random token that is also set as a
//     SameSite=Strict cookie scoped to the link (double submit), and a
//     POST whose Origin names another host is refused. A third-party page
//     can neither read the token nor set the cookie.
//   - Guessing: attempts are budgeted per client address and per link
//     (UnlockPerIP, UnlockPerLink), and each costs one argon2id check.
//   - Remembering: a correct password sets an HttpOnly cookie scoped to the
//     link, valid for UnlockRemember, holding its expiry and an HMAC of
//     (code, expiry, password tag) under a key derived from the cluster's
//     replicated secret, so every node accepts it and changing the
//     password forgets it. The hash itself never leaves the store.
const (
	UnlockBodyLimit = 4 << 10 // the form is a password and a token
	UnlockRemember  = 12 * time.Hour
	unlockCookie    = "lkpw"
	csrfCookie      = "lkcsrf"
	passwordField   = "password"
	csrfField       = "csrf"
)

// Attempt budgets of the password form.
var (
	UnlockPerIP   = ratelimit.PerMinute(10, 10)
	UnlockPerLink = ratelimit.PerMinute(30, 30)
)

// passwordTmpl is small and lives next to its handler.
var passwordTmpl = template.Must(template.New("password").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Password required · linkd</title>
<style>:root{color-scheme:light dark}body{margin:0;min-height:100vh;display:grid;place-items:center;font:16px/1.5 system-ui,sans-serif;padding:1rem}
main{max-width:28rem;width:100%;padding:2rem;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.2)}h1{margin:0 0 .5rem;font-size:1.4rem}
input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0 1rem}button{font:inherit;padding:.5rem 1.2rem}.err{color:#c62828}</style>
</head><body><main><h1>Password required</h1><p>This link is protected. Enter its password to continue.</p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="pw">Password</label><input id="pw" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Continue</button></form></main></body></html>`))

// passwordCSP lets the page post its form and nothing else. form-action
// also governs where the submission's redirects may lead (browsers block
// the chain otherwise), and a correct password ends at the link's
// destination, any http(s) URL.
const passwordCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:; base-uri 'none'; frame-ancestors 'none'"

// unlock is the password side of a Handler.
type unlock struct {
	perIP   *ratelimit.Limiter[netip.Addr]
	perLink *ratelimit.Limiter[string]
	keyOnce sync.Mutex
	key     []byte // derived from the cluster secret once it exists
}

func newUnlock() unlock {
	return unlock{perIP: ratelimit.New[netip.Addr](UnlockPerIP), perLink: ratelimit.New[string](UnlockPerLink)}
}

// cookieKey is the HMAC key of unlock cookies: derived from the cluster's
// replicated permutation key, so every node shares it; nil before the
// cluster is initialised.
func (h *Handler) cookieKey() []byte {
	h.unlock.keyOnce.Lock()
	defer h.unlock.keyOnce.Unlock()
	if h.unlock.key == nil {
		if k, err := h.st.PermKey(); err == nil {
			m := hmac.New(sha256.New, k)
			m.Write([]byte("linkd link password cookie v1"))
			h.unlock.key = m.Sum(nil)
		}
	}
	return h.unlock.key
}

func (h *Handler) cookieMAC(code []byte, tag uint64, exp int64) []byte {
	key := h.cookieKey()
	if key == nil {
		return nil
	}
	m := hmac.New(sha256.New, key)
	m.Write(code)
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], tag)
	binary.BigEndian.PutUint64(b[8:], uint64(exp))
	m.Write(b[:])
	return m.Sum(nil)[:18]
}

// unlocked reports whether the request carries a valid unlock cookie for
// the link's current password.
func (h *Handler) unlocked(ctx *fasthttp.RequestCtx, tag uint64, code []byte, now time.Time) bool {
	v := ctx.Request.Header.Cookie(unlockCookie)
	expS, macS, ok := bytes.Cut(v, []byte{'.'})
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(string(expS), 10, 64)
	if err != nil || now.Unix() >= exp {
		return false
	}
	mac, err := base64.RawURLEncoding.DecodeString(string(macS))
	want := h.cookieMAC(code, tag, exp)
	return err == nil && want != nil && hmac.Equal(mac, want)
}

type passwordView struct{ Action, CSRF, Error string }

// passwordPage shows the form, with a fresh CSRF token (cookie and field).
func (h *Handler) passwordPage(ctx *fasthttp.RequestCtx, status int, code []byte, msg string) {
	var raw [18]byte
	rand.Read(raw[:])
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	h.setCookie(ctx, csrfCookie, tok, code, 0, fasthttp.CookieSameSiteStrictMode)
	var b bytes.Buffer
	action := string(ctx.URI().PathOriginal())
	if q := ctx.URI().QueryString(); len(q) > 0 {
		action += "?" + string(q)
	}
	if err := passwordTmpl.Execute(&b, passwordView{Action: action, CSRF: tok, Error: msg}); err != nil {
		panic(err) // our template and data
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.Response.Header.Set("Content-Security-Policy", passwordCSP)
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(b.Bytes())
}

func (h *Handler) setCookie(ctx *fasthttp.RequestCtx, name, value string, code []byte, maxAge time.Duration, same fasthttp.CookieSameSite) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(name)
	c.SetValue(value)
	_, bare := store.SplitDomainCode(string(code)) // the path of a link on a domain is its bare code
	c.SetPath("/" + bare)
	c.SetHTTPOnly(true)
	c.SetSameSite(same)
	c.SetSecure(strings.HasPrefix(h.public, "https:"))
	if maxAge > 0 {
		c.SetMaxAge(int(maxAge.Seconds()))
	}
	ctx.Response.Header.SetCookie(c)
}

// Unlock serves POST /{code}[/more] from the password form: it checks the
// budgets, the CSRF token and the password, sets the unlock cookie and
// sends the visitor back to the link with a GET (303), which then
// redirects. A wrong password shows the form again (403).
func (h *Handler) Unlock(ctx *fasthttp.RequestCtx) {
	if httpx.TooLarge(ctx, UnlockBodyLimit) {
		httpx.Discard(ctx)
		httpx.WritePage(ctx, fasthttp.StatusRequestEntityTooLarge, httpx.Page{Title: "Too large", Message: "The form was too large."})
		return
	}
	code := ctx.Path()[1:]
	if i := bytes.IndexByte(code, '/'); i >= 0 {
		code = code[:i]
	}
	now := time.Now()
	var hb hostBuf
	var kb keyBuf
	host, d, s := h.siteOf(ctx, &hb)
	code = linkKey(&kb, host, d, code)
	e, buf, err := h.st.Resolve(nil, code)
	_ = buf
	if s == siteUnknown || err != nil || e.Kind != store.HotActive || e.Flags&store.HotPassword == 0 {
		httpx.Discard(ctx)
		h.m.NotFound.Inc()
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NotFound)
		return
	}
	if d := h.unlock.perIP.Allow(httpx.ClientKey(ctx, h.proxies), now); !d.OK {
		h.refuseUnlock(ctx, code, d)
		return
	}
	if d := h.unlock.perLink.Allow(string(code), now); !d.OK {
		h.refuseUnlock(ctx, code, d)
		return
	}
	if !httpx.ReadBody(ctx, UnlockBodyLimit) {
		httpx.Discard(ctx)
		httpx.WritePage(ctx, fasthttp.StatusRequestEntityTooLarge, httpx.Page{Title: "Too large", Message: "The form was too large."})
		return
	}
	form := ctx.PostArgs()
	tok, cookie := form.Peek(csrfField), ctx.Request.Header.Cookie(csrfCookie)
	if len(tok) == 0 || subtle.ConstantTimeCompare(tok, cookie) != 1 || !sameOrigin(ctx) {
		h.passwordPage(ctx, fasthttp.StatusForbidden, code, "The form expired. Please enter the password again.")
		return
	}
	l, err := h.st.Link(string(code))
	if err != nil || l.PasswordHash == "" {
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NotFound)
		return
	}
	if ok, err := password.Verify(l.PasswordHash, string(form.Peek(passwordField))); err != nil || !ok {
		h.passwordPage(ctx, fasthttp.StatusForbidden, code, "That password is not correct.")
		return
	}
	exp := now.Add(UnlockRemember).Unix()
	mac := h.cookieMAC(code, store.PasswordTag(l.PasswordHash), exp)
	if mac == nil {
		httpx.WritePage(ctx, fasthttp.StatusServiceUnavailable, httpx.Page{Title: "Not ready", Message: "Please try again in a moment."})
		return
	}
	h.setCookie(ctx, unlockCookie, strconv.FormatInt(exp, 10)+"."+base64.RawURLEncoding.EncodeToString(mac), code,
		UnlockRemember, fasthttp.CookieSameSiteLaxMode)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Redirect(string(ctx.URI().RequestURI()), fasthttp.StatusSeeOther)
}

func (h *Handler) refuseUnlock(ctx *fasthttp.RequestCtx, code []byte, d ratelimit.Decision) {
	httpx.Discard(ctx)
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(httpx.RetryAfter(d)))
	h.passwordPage(ctx, fasthttp.StatusTooManyRequests, code,
		"Too many attempts. Please wait "+strconv.Itoa(httpx.RetryAfter(d))+" seconds and try again.")
}

// sameOrigin refuses a POST that a browser says came from another site:
// an Origin header naming another host, or Sec-Fetch-Site cross-site.
// "Origin: null" is what a browser sends for the form of a page with
// Referrer-Policy: no-referrer (as the password page is), so it says
// nothing; the double-submit token decides then.
func sameOrigin(ctx *fasthttp.RequestCtx) bool {
	if string(ctx.Request.Header.Peek("Sec-Fetch-Site")) == "cross-site" {
		return false
	}
	o := ctx.Request.Header.Peek("Origin")
	if len(o) == 0 || string(o) == "null" {
		return true
	}
	_, host, ok := bytes.Cut(o, []byte("://"))
	return ok && bytes.EqualFold(host, ctx.Host())
}
