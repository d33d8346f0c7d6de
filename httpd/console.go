package httpd

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/httpd/ui"
	"github.com/linkd/linkd/internal/token"
	"github.com/linkd/linkd/store"
)

// Console tuning, kept together.
const (
	sessionTTL = 14 * 24 * time.Hour
	// consoleCSP lets pages load only their own CSS and script; charts
	// are inline SVG whose style attributes need style-src-attr.
	consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
		"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	// maxFormBody bounds urlencoded forms (the largest is the profile
	// editor's 50 links); maxUploadForm multipart ones with an image.
	maxFormBody   = 64 << 10
	maxUploadForm = imaging.MaxUpload + maxFormBody
)

// console is the web console under /app: server-rendered pages that work
// without JavaScript, with sessions in replicated state (any node serves
// any session) and CSRF tokens on every form.
type console struct {
	s       *Server
	handler fasthttp.RequestHandler // serve, compressed for clients that accept it
	pages   map[string]*template.Template
	assets  map[string]asset // by URL path
	cssURL  string
	jsURL   string
	cookies cookieNames
	secure  bool
}

type asset struct {
	body  []byte
	ctype string
}

// cookieNames uses the __Host- prefix when cookies are Secure: the browser
// then refuses them from subdomains and over plain HTTP.
type cookieNames struct{ session, csrf string }

func newConsole(s *Server, secure bool) (*console, error) {
	c := &console{s: s, secure: secure, pages: map[string]*template.Template{}, assets: map[string]asset{}}
	c.handler = fasthttp.CompressHandlerBrotliLevel(c.serve, fasthttp.CompressBrotliDefaultCompression, fasthttp.CompressDefaultCompression)
	c.cookies = cookieNames{"linkd_session", "linkd_csrf"}
	if secure {
		c.cookies = cookieNames{"__Host-linkd_session", "__Host-linkd_csrf"}
	}
	var err error
	if c.cssURL, err = c.addAsset("static/app.css", "text/css; charset=utf-8"); err != nil {
		return nil, err
	}
	if c.jsURL, err = c.addAsset("static/app.js", "text/javascript; charset=utf-8"); err != nil {
		return nil, err
	}
	layout, err := template.New("").Funcs(templateFuncs).ParseFS(ui.FS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("httpd: console layout: %w", err)
	}
	names, _ := fs.Glob(ui.FS, "templates/*.html")
	for _, n := range names {
		if strings.HasSuffix(n, "/layout.html") {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(ui.FS, n)
		if err != nil {
			return nil, fmt.Errorf("httpd: console template %s: %w", n, err)
		}
		c.pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return c, nil
}

// addAsset serves an embedded file under a content-hashed URL, so it can be
// cached forever and still change with each release.
func (c *console) addAsset(name, ctype string) (string, error) {
	b, err := ui.FS.ReadFile(name)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	ext := path.Ext(name)
	url := "/app/static/" + strings.TrimSuffix(path.Base(name), ext) + "." + hex.EncodeToString(sum[:6]) + ext
	c.assets[url] = asset{body: b, ctype: ctype}
	return url, nil
}

// fieldArgs feeds the "field" template.
type fieldArgs struct {
	Name, Label, Type, Value, Err, Hint string
	Required                            bool
	Auto                                string
}

var templateFuncs = template.FuncMap{
	"field": func(name, label, typ, value, err, hint string, required bool, auto string) fieldArgs {
		return fieldArgs{name, label, typ, value, err, hint, required, auto}
	},
	// day shows an RFC 3339 time as a short UTC date.
	"day": func(rfc string) string {
		t, err := time.Parse(time.RFC3339Nano, rfc)
		if err != nil {
			return rfc
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
}

// view is what every console template gets.
type view struct {
	Title  string
	Nav    string
	User   *store.User
	Admin  bool
	CSRF   string
	Flash  string
	Error  string
	Fields map[string]string
	Form   map[string]string
	CSS    string
	JS     string
	Data   any
}

// session is a request's console login, if any.
type session struct {
	token string // the cookie value; "" when logged out
	p     principal
}

func (se session) loggedIn() bool { return se.token != "" }

// serve routes /app/...
func (c *console) serve(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	if a, ok := c.assets[p]; ok {
		ctx.Response.Header.Set("Cache-Control", "public, max-age=31536000, immutable")
		ctx.SetContentType(a.ctype)
		ctx.SetBody(a.body)
		return
	}
	h := &ctx.Response.Header
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	se := c.session(ctx)
	if ctx.IsPost() && !c.checkCSRF(ctx, se) {
		c.errorPage(ctx, se, fasthttp.StatusForbidden, "Form expired",
			"The form was not accepted because its security token is missing or stale. Go back, reload the page and try again.")
		return
	}
	c.route(ctx, se, strings.TrimPrefix(p, "/app"))
}

// session reads the session cookie. Unknown, expired and disabled
// sessions count as logged out.
func (c *console) session(ctx *fasthttp.RequestCtx) session {
	tok := string(ctx.Request.Header.Cookie(c.cookies.session))
	if tok == "" {
		return session{}
	}
	se, err := c.s.st.Session(store.TokenHash(tok), time.Now().UnixMilli())
	if err != nil {
		return session{}
	}
	u, err := c.s.enabledUser(se.User)
	if err != nil {
		return session{}
	}
	return session{token: tok, p: principal{user: u, scopes: roleScopes(u.Role)}}
}

// csrfToken is the token forms must echo: an HMAC keyed by the session
// token (or, before login, by a random cookie), so a page on another site
// can neither read nor compute it.
func (c *console) csrfToken(ctx *fasthttp.RequestCtx, se session) string {
	key := se.token
	if key == "" {
		key = string(ctx.Request.Header.Cookie(c.cookies.csrf))
		if key == "" {
			key = token.Session()
			c.setCookie(ctx, c.cookies.csrf, key, sessionTTL)
			ctx.Request.Header.SetCookie(c.cookies.csrf, key) // later reads in this request
		}
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("linkd console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a POST's token, and refuses cross-site posts outright
// when the browser says so (Sec-Fetch-Site).
func (c *console) checkCSRF(ctx *fasthttp.RequestCtx, se session) bool {
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
// profile editor uploads images), within the form size limits.
func formCSRF(ctx *fasthttp.RequestCtx) []byte {
	if !bytes.HasPrefix(ctx.Request.Header.ContentType(), []byte("multipart/form-data")) {
		if len(ctx.PostBody()) > maxFormBody {
			return nil
		}
		return ctx.PostArgs().Peek("csrf")
	}
	if len(ctx.PostBody()) > maxUploadForm {
		return nil
	}
	mf, err := ctx.MultipartForm()
	if err != nil || len(mf.Value["csrf"]) == 0 {
		return nil
	}
	return []byte(mf.Value["csrf"][0])
}

func (c *console) setCookie(ctx *fasthttp.RequestCtx, name, value string, ttl time.Duration) {
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

// render writes a page; v.Title and v.Data are the caller's.
func (c *console) render(ctx *fasthttp.RequestCtx, se session, status int, page string, v view) {
	v.CSS, v.JS = c.cssURL, c.jsURL
	v.CSRF = c.csrfToken(ctx, se)
	if se.loggedIn() {
		v.User, v.Admin = se.p.user, se.p.isAdmin()
	}
	if v.Flash == "" {
		v.Flash = flashes[string(ctx.QueryArgs().Peek("done"))]
	}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		c.s.log.Error("rendering console page", "page", page, "err", err)
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("The page could not be rendered.")
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBody(buf.Bytes())
}

// flashes are the confirmations a redirect after a POST can ask for
// (?done=...): fixed texts, so a link cannot put words on the page.
var flashes = map[string]string{
	"created":     "Link created.",
	"saved":       "Changes saved.",
	"deleted":     "Link deleted.",
	"revoked":     "Key revoked.",
	"user":        "User saved.",
	"userdeleted": "User deleted with their links and analytics.",
	"invrevoked":  "Invite revoked.",
	"welcome":     "Welcome! Your account is ready.",
	"profile":     "Profile saved.",
}

func (c *console) errorPage(ctx *fasthttp.RequestCtx, se session, status int, title, msg string) {
	c.render(ctx, se, status, "error", view{Title: title, Data: msg})
}

// seeOther answers a POST with a redirect (POST/redirect/GET), so reloading
// the next page does not submit the form again.
func seeOther(ctx *fasthttp.RequestCtx, to string) {
	ctx.Response.Header.Set("Location", to)
	ctx.SetStatusCode(fasthttp.StatusSeeOther)
}

// formFailure is what a page shows for a failed request: the status, a
// message and per-field errors.
type formFailure struct {
	status int
	msg    string
	fields map[string]string
}

// text is the message and the field errors, for a form's view.
func (f formFailure) text() (string, map[string]string) { return f.msg, f.fields }

// formError turns err into what a form shows. Unknown errors are logged
// (once) by failureFor.
func (c *console) formError(err error) formFailure {
	f := c.s.failureFor(err)
	fields := map[string]string{}
	for _, fe := range f.errs {
		fields[fe.Field] = strings.ToUpper(fe.Message[:1]) + fe.Message[1:] + "."
	}
	msg := f.detail
	if f.kind == probValidation {
		msg += " Please correct the fields marked below."
	}
	return formFailure{status: f.kind.status, msg: msg, fields: fields}
}

// failPage answers a failed action that has no form to show it on.
func (c *console) failPage(ctx *fasthttp.RequestCtx, se session, title string, err error) {
	f := c.formError(err)
	c.errorPage(ctx, se, f.status, title, f.msg)
}

// allowWrite spends one write of the session's budget, rendering the 429
// page itself when it is spent.
func (c *console) allowWrite(ctx *fasthttp.RequestCtx, se session) bool {
	if d := c.s.writeRefusal(ctx, se.p); d != nil {
		ctx.Response.Header.Set("Retry-After", fmt.Sprint(max(ceilSeconds(d.RetryAfter), 1)))
		c.errorPage(ctx, se, fasthttp.StatusTooManyRequests, "Slow down",
			fmt.Sprintf("Too many changes in a short time. Please wait %d seconds and try again.", max(ceilSeconds(d.RetryAfter), 1)))
		return false
	}
	return true
}

// login starts a session for u and sets its cookie.
func (c *console) login(ctx *fasthttp.RequestCtx, u *store.User) error {
	tok := token.Session()
	now := time.Now()
	_, err := c.s.propose(&fsm.CreateSession{Now: now.UnixMilli(), Hash: store.TokenHash(tok), User: u.ID,
		ExpiresAt: now.Add(sessionTTL).UnixMilli()})
	if err != nil {
		return err
	}
	c.setCookie(ctx, c.cookies.session, tok, sessionTTL)
	return nil
}
