// Package public serves what anyone may read without logging in: the
// redirect hot path (/{code}), link previews (/{code}+), profile pages
// (/@{handle}, their share images and sensitive-link warnings), uploaded
// images (/_/img/), health, readiness and status (/_/), and the problem
// type docs (/_/problems/).
//
// Invariants: a redirect that hits the hot set touches no disk, waits for
// nothing and allocates nothing (BenchmarkRedirectHit); a click is a
// non-blocking enqueue; no public route accepts a request body except the
// password form of a protected link (POST /{code}, at most
// UnlockBodyLimit, read only after its guessing budgets allowed it). Links
// with options (options.go) are matched from the hot-set entry's compiled
// program, without allocating. public reads through httpd/ops and the
// store; it never proposes a command.
package public

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// Counters are the redirect path's metrics, resolved once so that counting
// costs one atomic add.
type Counters struct {
	Redirects, NotFound, Gone, Blocked, Preview, Limited prometheus.Counter
}

// Config configures a Handler.
type Config struct {
	Ops *ops.Ops
	// Clicks records visits for analytics; nil turns analytics off.
	Clicks *clicks.Recorder
	// Proxies are the trusted proxies (the same list the limiters use).
	Proxies  clientaddr.Proxies
	Limiters *httpx.Limiters
	// RedirectMaxAge, when positive, lets browsers and CDNs cache
	// redirects for that long; 0 sends no-store.
	RedirectMaxAge time.Duration
	Counters       Counters
	// Metrics serves /_/metrics.
	Metrics fasthttp.RequestHandler
	// ProfileHost is --profile-host: like the default host, never an
	// unknown one.
	ProfileHost string
}

// Handler serves the public routes.
type Handler struct {
	ops         *ops.Ops
	st          *store.Store
	log         logger
	public      string
	defaultHost string // the default domain's host
	profileHost string // --profile-host
	clicks      *clicks.Recorder
	proxies     clientaddr.Proxies
	lim         *httpx.Limiters
	m           Counters
	pages       httpx.StatusPages
	cacheCtl    []byte
	bufs        sync.Pool
	profiles    renderCache[*renderedPage]
	shares      renderCache[[]byte]
	shareRender sync.Mutex
	routes      httpx.Table[fasthttp.RequestHandler]
	unlock      unlock
}

type logger interface {
	Error(msg string, args ...any)
}

// New returns a Handler.
func New(cfg Config, log logger) *Handler {
	h := &Handler{ops: cfg.Ops, st: cfg.Ops.Store(), log: log, public: cfg.Ops.Public(), defaultHost: cfg.Ops.DefaultHost(), profileHost: strings.ToLower(cfg.ProfileHost), clicks: cfg.Clicks,
		proxies: cfg.Proxies, lim: cfg.Limiters, m: cfg.Counters, pages: httpx.NewStatusPages(), cacheCtl: []byte("no-store"),
		unlock: newUnlock()}
	if cfg.RedirectMaxAge > 0 {
		sec := strconv.Itoa(int(cfg.RedirectMaxAge.Seconds()))
		h.cacheCtl = []byte("public, max-age=" + sec + ", s-maxage=" + sec)
	}
	h.profiles.max, h.shares.max = maxCachedPages, maxShareCached
	h.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	h.routes = h.table(cfg.Metrics)
	return h
}

// Routes is the table of the /_/ routes (after /_/), for tests that
// enumerate policy. The redirect and profile routes are matched by prefix
// in httpd, for speed; they too are GET/HEAD only and accept no body.
func (h *Handler) Routes() httpx.Table[fasthttp.RequestHandler] { return h.routes }

// table is the public route table under /_/. Every route is a read and
// accepts no body.
func (h *Handler) table(metrics fasthttp.RequestHandler) httpx.Table[fasthttp.RequestHandler] {
	var t httpx.Table[fasthttp.RequestHandler]
	for _, m := range []string{"GET", "HEAD"} {
		t = append(t,
			httpx.Route[fasthttp.RequestHandler]{Method: m, Pattern: "healthz", Public: true, Handle: healthz},
			httpx.Route[fasthttp.RequestHandler]{Method: m, Pattern: "readyz", Public: true, Handle: h.readyz},
			httpx.Route[fasthttp.RequestHandler]{Method: m, Pattern: "status", Public: true, Handle: h.status},
			httpx.Route[fasthttp.RequestHandler]{Method: m, Pattern: "metrics", Public: true, Handle: h.scraper(metrics)},
			httpx.Route[fasthttp.RequestHandler]{Method: m, Pattern: "img/{id}", Public: true, Handle: h.image},
			httpx.Route[fasthttp.RequestHandler]{Method: m, Pattern: "v/{id}", Public: true, Handle: h.beacon},
			httpx.Route[fasthttp.RequestHandler]{Method: m, Pattern: "problems/{id}", Public: true, Handle: problemDocs},
		)
	}
	return t
}

// scraper lets through to /_/metrics only a bearer token with the
// metrics:read scope (admin keys hold it): the figures are cluster-wide
// (links, raft indexes, purge targets), so anonymous clients get 401 and
// other users' keys 403.
func (h *Handler) scraper(metrics fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		token, _ := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
		p, err := h.ops.ForToken(strings.TrimSpace(token), time.Now())
		switch {
		case token == "" || err != nil:
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="linkd"`)
			httpx.WriteProblem(ctx, ops.KindUnauthorized, "The metrics need an API key with the metrics:read scope (admins' keys hold it).")
		case !p.Can(ops.ScopeMetrics):
			httpx.WriteProblem(ctx, ops.KindForbidden, "The metrics need the metrics:read scope.")
		default:
			metrics(ctx)
		}
	}
}

// Internal serves /_/...: health, readiness, status, metrics, images and
// problem docs.

// Internal serves /_/...: health, readiness, status, metrics, images,
// view beacons and problem docs.
func (h *Handler) Internal(ctx *fasthttp.RequestCtx) {
	rest := strings.TrimPrefix(string(ctx.Path()), "/_/")
	r, _, _ := h.routes.Lookup(string(ctx.Method()), rest)
	if r == nil {
		httpx.WriteProblem(ctx, ops.KindNotFound, "No such endpoint.")
		return
	}
	r.Handle(ctx)
}

// RefuseBody answers a public request that carries a body: no public route
// accepts one. The connection is closed, so the body is never read.
func RefuseBody(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	httpx.WritePage(ctx, fasthttp.StatusRequestEntityTooLarge, httpx.Page{Title: "Request too large",
		Message: "Pages and links here are only read; the request must not carry a body."})
}

// Home serves /.
func (h *Handler) Home(ctx *fasthttp.RequestCtx) {
	httpx.WritePage(ctx, fasthttp.StatusOK, httpx.Page{Title: "linkd", Message: "Short links and link-in-bio pages.",
		Action: "Open the console", ActionURL: "/app/",
		Detail: "Programs use the JSON API at /api/v1 with an API token (Authorization: Bearer …)."})
}

func healthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ok\n")
}

// readyz is the load balancer's health check: 200 only when this node has
// a leader, is initialised, is caught up and has heard from the leader
// recently.
func (h *Handler) readyz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if err := h.ops.Cluster().Ready(); err != nil {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString("not ready: " + err.Error() + "\n")
		return
	}
	ctx.SetBodyString("ready\n")
}

// publicStatus is what /_/status tells anyone: what a load balancer needs,
// and nothing an attacker could use (no member addresses, no indexes).
type publicStatus struct {
	NodeID string `json:"nodeId"`
	State  string `json:"state"`
	Ready  bool   `json:"ready"`
}

// status serves /_/status: the full cluster view to an admin API token,
// the public view to anyone else (a bad token is not an error here, so the
// endpoint stays a plain health probe).
func (h *Handler) status(ctx *fasthttp.RequestCtx) {
	if token, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer "); ok {
		if p, err := h.ops.ForToken(strings.TrimSpace(token), time.Now()); err == nil && p.IsAdmin() {
			httpx.WriteJSON(ctx, fasthttp.StatusOK, h.ops.FullStatus())
			return
		}
	}
	cl := h.ops.Cluster()
	st := cl.Status()
	httpx.WriteJSON(ctx, fasthttp.StatusOK, publicStatus{NodeID: st.NodeID, State: st.State, Ready: cl.Ready() == nil})
}

// problemDocs serves /_/problems/{slug}: the human description of each type.
func problemDocs(ctx *fasthttp.RequestCtx) {
	slug := strings.TrimPrefix(string(ctx.Path()), "/_/problems/")
	if k, ok := httpx.ProblemBySlug(slug); ok {
		httpx.WritePage(ctx, fasthttp.StatusOK, httpx.Page{Title: k.Title, Message: k.About,
			Detail: "HTTP status " + strconv.Itoa(k.Status) + " · type /_/problems/" + k.Slug})
		return
	}
	httpx.WritePage(ctx, fasthttp.StatusNotFound, httpx.Page{Title: "Not found", Message: "No such problem type."})
}

// image serves /_/img/{id}.
func (h *Handler) image(ctx *fasthttp.RequestCtx) {
	id := strings.TrimPrefix(string(ctx.Path()), "/_/img/")
	img, ok := h.ops.ImageByID(id)
	if !ok {
		httpx.WritePage(ctx, fasthttp.StatusNotFound, httpx.Page{Title: "Not found", Message: "No such image."})
		return
	}
	hd := &ctx.Response.Header
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("ETag", `"`+id+`"`)
	hd.Set("Content-Security-Policy", "default-src 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	if string(ctx.Request.Header.Peek("If-None-Match")) == `"`+id+`"` {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetContentType(img.Type)
	ctx.SetBody(img.Data)
}
