// Package console is the web console under /app: server-rendered pages
// that work without JavaScript, with sessions in replicated state (any node
// serves any session) and a CSRF token on every form.
//
// Every page and form action is one row of the route table (routes.go)
// declaring its method, path, scope, budget and body limit. Handle applies
// them in one order for all: the body's declared size, the session, the
// CSRF token of a POST, login, scope (a missing one is "not found", as for
// other users' links), the budget; then the handler runs. Handlers read
// forms, call httpd/ops and render a typed view model (views.go); a failed
// operation is shown on its form through the one ops.Error → status
// mapping of httpd/httpx.
package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/httpd/ratelimit"
	"github.com/linkd/linkd/httpd/ui"
)

// consoleCSP lets pages load only their own CSS and script; charts are
// inline SVG whose style attributes need style-src-attr; the profile
// editor frames its preview (this origin only).
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
	"img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Config configures a Console.
type Config struct {
	Ops      *ops.Ops
	Limiters *httpx.Limiters
	// Secure marks cookies Secure (and gives them the __Host- prefix).
	Secure bool
	Logger *slog.Logger
	// AnalyticsLag is how long a click may take to show in analytics.
	AnalyticsLag time.Duration
}

// Console serves /app/...
type Console struct {
	ops     *ops.Ops
	lim     *httpx.Limiters
	log     *slog.Logger
	handler fasthttp.RequestHandler // serve, compressed for clients that accept it
	pages   map[string]*template.Template
	assets  map[string]asset // by URL path
	cssURL  string
	jsURL   string
	cookies cookieNames
	secure  bool
	routes  httpx.Table[handler]
	lag     time.Duration
}

type asset struct {
	body  []byte
	ctype string
}

// request is what a handler gets besides the fasthttp context: the
// session and the path's parameters.
type request struct {
	se session
	httpx.Params
}

type handler func(ctx *fasthttp.RequestCtx, rq request)

// New parses the templates and returns the console.
func New(cfg Config) (*Console, error) {
	c := &Console{ops: cfg.Ops, lim: cfg.Limiters, log: cfg.Logger, secure: cfg.Secure, lag: cfg.AnalyticsLag,
		pages: map[string]*template.Template{}, assets: map[string]asset{}}
	c.handler = fasthttp.CompressHandlerBrotliLevel(c.serve, fasthttp.CompressBrotliDefaultCompression, fasthttp.CompressDefaultCompression)
	c.cookies = cookieNames{"linkd_session", "linkd_csrf"}
	if cfg.Secure {
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
	c.routes = c.table()
	return c, nil
}

// Handle serves one /app request.
func (c *Console) Handle(ctx *fasthttp.RequestCtx) { c.handler(ctx) }

// BodyLimit is the body limit of the route for method and path (the
// whole path, /app/...); an unknown page gets the default.
func (c *Console) BodyLimit(method, path string) int {
	rest := strings.TrimPrefix(strings.TrimPrefix(path, "/app"), "/")
	if r, _, _ := c.routes.Lookup(method, rest); r != nil {
		return r.Body
	}
	return httpx.DefaultBodyLimit
}

// Routes is the route table, for tests that enumerate policy.
func (c *Console) Routes() httpx.Table[handler] { return c.routes }

// addAsset serves an embedded file under a content-hashed URL, so it can be
// cached forever and still change with each release.
func (c *Console) addAsset(name, ctype string) (string, error) {
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

// serve applies the route's policy, then runs its handler.
func (c *Console) serve(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	if a, ok := c.assets[p]; ok {
		httpx.Discard(ctx)
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
	rest := strings.TrimPrefix(strings.TrimPrefix(p, "/app"), "/")
	r, ps, _ := c.routes.Lookup(string(ctx.Method()), rest)
	limit := httpx.DefaultBodyLimit // an unknown page still gets its CSRF check
	if r != nil {
		limit = r.Body
	}
	rq := request{se: c.session(ctx), Params: ps}
	if d := ctx.QueryArgs().Peek("domain"); len(d) > 0 && ps.Code != "" {
		rq.Code = c.ops.LinkKey(string(d), ps.Code) // a link off the default domain
	}
	if httpx.TooLarge(ctx, limit) || !httpx.ReadBody(ctx, limit) {
		httpx.Discard(ctx)
		c.errorPage(ctx, rq.se, fasthttp.StatusRequestEntityTooLarge, "Form too large",
			"The form was not accepted because it is larger than this page allows.")
		return
	}
	if ctx.IsPost() && !c.checkCSRF(ctx, rq.se) {
		c.errorPage(ctx, rq.se, fasthttp.StatusForbidden, "Form expired",
			"The form was not accepted because its security token is missing or stale. Go back, reload the page and try again.")
		return
	}
	if (r == nil || !r.Public) && !rq.se.loggedIn() {
		ctx.Redirect("/app/login?next="+url.QueryEscape(strings.TrimPrefix(p, "/app")), fasthttp.StatusSeeOther)
		return
	}
	if r == nil || (!r.Public && !rq.se.p.Can(r.Scope)) {
		c.errorPage(ctx, rq.se, fasthttp.StatusNotFound, "Not found", "There is no such page, or it is not yours.")
		return
	}
	if d := c.spend(ctx, r, rq.se); d != nil {
		c.refused(ctx, rq, r, *d)
		return
	}
	r.Handle(ctx, rq)
}

// spend takes the route's budget; it returns the refusal, or nil.
func (c *Console) spend(ctx *fasthttp.RequestCtx, r *httpx.Route[handler], se session) *ratelimit.Decision {
	switch r.Budget {
	case httpx.Writes:
		return c.lim.WriteRefusal(ctx, se.p)
	case httpx.Logins:
		return c.lim.LoginRefusal(ctx, string(ctx.PostArgs().Peek("email")))
	}
	return nil
}

// refused renders a spent budget: the login and sign-up forms show it on
// the form, other pages on an error page.
func (c *Console) refused(ctx *fasthttp.RequestCtx, rq request, r *httpx.Route[handler], d ratelimit.Decision) {
	wait := httpx.RetryAfter(d)
	ctx.Response.Header.Set("Retry-After", fmt.Sprint(wait))
	if r.Budget == httpx.Logins {
		msg := fmt.Sprintf("Too many attempts. Please wait %d seconds before trying again.", wait)
		if r.Pattern == "signup" {
			v := c.signupView(ctx, rq)
			v.Error = msg
			c.render(ctx, rq.se, fasthttp.StatusTooManyRequests, "signup", v)
			return
		}
		v := c.loginView(ctx)
		v.Error = msg
		c.render(ctx, rq.se, fasthttp.StatusTooManyRequests, "login", v)
		return
	}
	c.errorPage(ctx, rq.se, fasthttp.StatusTooManyRequests, "Slow down",
		fmt.Sprintf("Too many changes in a short time. Please wait %d seconds and try again.", wait))
}

// render writes a page; v.Title and v.Data are the caller's.
func (c *Console) render(ctx *fasthttp.RequestCtx, se session, status int, page string, v view) {
	v.CSS, v.JS, v.page = c.cssURL, c.jsURL, page
	v.CSRF = c.csrfToken(ctx, se)
	if se.loggedIn() {
		v.User, v.Admin = se.p.User, se.p.IsAdmin()
	}
	if v.Flash == "" {
		v.Flash = flashes[string(ctx.QueryArgs().Peek("done"))]
	}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("rendering console page", "page", page, "err", err)
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("The page could not be rendered.")
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBody(buf.Bytes())
}

// renderForm renders a page whose form may have failed: a form error
// answers 422.
func (c *Console) renderForm(ctx *fasthttp.RequestCtx, se session, page, title string, v view) {
	v.Title, v.Nav = title, pageNav[page]
	status := fasthttp.StatusOK
	if v.Error != "" {
		status = fasthttp.StatusUnprocessableEntity
	}
	c.render(ctx, se, status, page, v)
}

// pageNav is the menu entry each form page belongs to.
var pageNav = map[string]string{"links": "links", "link": "links", "keys": "keys", "users": "users", "moderation": "moderation", "transfer": "transfer", "domains": "domains", "webhooks": "webhooks", "webhook": "webhooks"}

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
	"trust":       "The user's quota and approval were saved.",
	"welcome":     "Welcome! Your account is ready.",
	"profile":     "Profile saved.",
}

func (c *Console) errorPage(ctx *fasthttp.RequestCtx, se session, status int, title, msg string) {
	c.render(ctx, se, status, "error", view{Title: title, Data: msg})
}

// seeOther answers a POST with a redirect (POST/redirect/GET), so reloading
// the next page does not submit the form again.
func seeOther(ctx *fasthttp.RequestCtx, to string) {
	ctx.Response.Header.Set("Location", to)
	ctx.SetStatusCode(fasthttp.StatusSeeOther)
}

// formError is what a form shows for a failed operation: the status (from
// the one Kind → status mapping), a message and per-field errors.
type formError struct {
	status int
	msg    string
	fields map[string]string
}

// formError classifies err (logging unknown errors once) for a form.
func (c *Console) formError(err error) formError {
	e := c.ops.Classify(err)
	fields := map[string]string{}
	for _, fe := range e.Fields {
		fields[fe.Field] = strings.ToUpper(fe.Message[:1]) + fe.Message[1:] + "."
	}
	msg := e.Detail
	if e.Kind == ops.KindValidation {
		msg += " Please correct the fields marked below."
	}
	return formError{status: httpx.StatusOf(e.Kind), msg: msg, fields: fields}
}

// show puts the message and field errors of err on v.
func (c *Console) show(v *view, err error) {
	f := c.formError(err)
	v.Error, v.Fields = f.msg, f.fields
}

// failPage answers a failed action that has no form to show it on.
func (c *Console) failPage(ctx *fasthttp.RequestCtx, se session, title string, err error) {
	f := c.formError(err)
	c.errorPage(ctx, se, f.status, title, f.msg)
}
