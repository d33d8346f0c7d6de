package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/internal/token"
)

// cookieNames uses the __Host- prefix when cookies are Secure: the browser
// then refuses them from subdomains and over plain HTTP.
type cookieNames struct{ session, csrf string }

// session is a request's console login, if any.
type session struct {
	token string // the cookie value; "" when logged out
	p     ops.Principal
}

func (se session) loggedIn() bool { return se.token != "" }

// session reads the session cookie. Unknown, expired and disabled
// sessions count as logged out.
func (c *Console) session(ctx *fasthttp.RequestCtx) session {
	tok := string(ctx.Request.Header.Cookie(c.cookies.session))
	if tok == "" {
		return session{}
	}
	p, err := c.ops.ForSession(tok, time.Now())
	if err != nil {
		return session{}
	}
	return session{token: tok, p: p}
}

// csrfToken is the token forms must echo: an HMAC keyed by the session
// token (or, before login, by a random cookie), so a page on another site
// can neither read nor compute it.
func (c *Console) csrfToken(ctx *fasthttp.RequestCtx, se session) string {
	key := se.token
	if key == "" {
		key = string(ctx.Request.Header.Cookie(c.cookies.csrf))
		if key == "" {
			key = token.Session()
			c.setCookie(ctx, c.cookies.csrf, key, ops.SessionTTL)
			ctx.Request.Header.SetCookie(c.cookies.csrf, key) // later reads in this request
		}
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("linkd console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a POST's token, and refuses cross-site posts outright
// when the browser says so (Sec-Fetch-Site).
func (c *Console) checkCSRF(ctx *fasthttp.RequestCtx, se session) bool {
	if string(ctx.Request.Header.Peek("Sec-Fetch-Site")) == "cross-site" {
		return false
	}
	got := formCSRF(ctx)
	if len(got) == 0 {
		return false
	}
	if !se.loggedIn() && len(ctx.Request.Header.Cookie(c.cookies.csrf)) == 0 {
		return false
	}
	want := c.csrfToken(ctx, se)
	return subtle.ConstantTimeCompare(got, []byte(want)) == 1
}

// formCSRF reads the csrf field of a urlencoded or multipart form (the
// profile editor uploads images). The body was read, within the route's
// limit, before this runs.
func formCSRF(ctx *fasthttp.RequestCtx) []byte {
	if !bytes.HasPrefix(ctx.Request.Header.ContentType(), []byte("multipart/form-data")) {
		return ctx.PostArgs().Peek("csrf")
	}
	mf, err := ctx.MultipartForm()
	if err != nil || len(mf.Value["csrf"]) == 0 {
		return nil
	}
	return []byte(mf.Value["csrf"][0])
}

func (c *Console) setCookie(ctx *fasthttp.RequestCtx, name, value string, ttl time.Duration) {
	var ck fasthttp.Cookie
	ck.SetKey(name)
	ck.SetValue(value)
	ck.SetPath("/")
	ck.SetHTTPOnly(true)
	ck.SetSecure(c.secure)
	ck.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	if ttl > 0 {
		ck.SetMaxAge(int(ttl.Seconds()))
	} else {
		ck.SetExpire(fasthttp.CookieExpireDelete)
	}
	ctx.Response.Header.SetCookie(&ck)
}

// login starts a session for the user and sets its cookie.
func (c *Console) login(ctx *fasthttp.RequestCtx, tok string) {
	c.setCookie(ctx, c.cookies.session, tok, ops.SessionTTL)
}
