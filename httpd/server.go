// Package httpd assembles linkd's one public HTTP port, served by
// fasthttp, from three front ends over one operations layer:
//
//   - public (httpd/public): redirects, previews, profile pages, share
//     images, images, health — the hot path, no login;
//   - api (httpd/api): the JSON API under /api/v1, problem+json, scopes;
//   - console (httpd/console): the web console under /app, sessions, CSRF;
//   - ops (httpd/ops): principals, scopes and the domain operations both
//     api and console call, HTTP-free;
//   - httpx (httpd/httpx): the plumbing they share — route tables, body
//     limits, client addresses, budgets, the problem catalogue.
//
// httpd itself only routes a request to its audience by path prefix, owns
// the fasthttp.Server (timeouts, streamed request bodies) and the
// per-address connection cap and the Prometheus registry. See DESIGN.md.
package httpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/api"
	"github.com/linkd/linkd/httpd/console"
	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/httpd/public"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/outbox/webhook"
	"github.com/linkd/linkd/store"
)

// Transport limits, kept together.
const (
	// maxServerBody is the largest body any route accepts (an image
	// upload with its form). Bodies are streamed, so this is a ceiling
	// for fasthttp, not an allocation: each route's own, smaller limit is
	// checked against the declared length before anything is read.
	maxServerBody = imaging.MaxUpload + 2*httpx.DefaultBodyLimit
	readTimeout   = 15 * time.Second
	writeTimeout  = 15 * time.Second
	idleTimeout   = 90 * time.Second
	// DefaultMaxConnsPerIP caps concurrent connections from one address.
	// Behind a proxy or CDN every visitor shares the proxy's addresses:
	// raise it (or set 0, no cap) there.
	DefaultMaxConnsPerIP = 256
)

// Re-exported so that callers configure httpd without importing its parts.
type (
	Cluster      = ops.Cluster
	Minter       = ops.Minter
	Registration = ops.Registration
	Limits       = httpx.Limits
)

// Registration modes.
const (
	RegistrationOpen   = ops.RegistrationOpen
	RegistrationInvite = ops.RegistrationInvite
	RegistrationClosed = ops.RegistrationClosed
)

// ParseRegistration checks a mode name.
func ParseRegistration(s string) (Registration, error) { return ops.ParseRegistration(s) }

// DefaultFeedMinInterval is the default shortest threat-feed interval.
const DefaultFeedMinInterval = ops.DefaultFeedMinInterval

// DefaultUploadQuota is the default per-user image quota in bytes.
const DefaultUploadQuota = ops.DefaultUploadQuota

// DefaultLimits are generous for people and tight for scripts that guess.
func DefaultLimits() Limits { return httpx.DefaultLimits() }

// Config configures a Server.
type Config struct {
	Store   *store.Store
	Cluster Cluster
	Minter  Minter
	// PublicURL is the base of every short URL, e.g. https://sho.rt.
	PublicURL string
	// RedirectMaxAge, when positive, lets browsers and CDNs cache redirects
	// for that long. The default (0) sends no-store, so that takedowns and
	// edits take effect everywhere at once.
	RedirectMaxAge time.Duration
	// Clicks records visits for analytics; nil turns analytics off.
	Clicks *clicks.Recorder
	// ClickBatches folds CDN log batches (POST /api/v1/analytics/ingest);
	// nil with analytics off.
	ClickBatches ops.ClickFolder
	// AnalyticsLag is the bound on a click's delay into analytics, which
	// the console states on its analytics pages.
	AnalyticsLag time.Duration
	// TrustedProxies may tell the client's address in CF-Connecting-IP or
	// X-Forwarded-For, for rate limits and analytics alike.
	TrustedProxies clientaddr.Proxies
	// Limits are the rate limits; the zero value limits nothing.
	Limits Limits
	// MaxConnsPerIP caps concurrent connections per client address; 0
	// means no cap.
	MaxConnsPerIP int
	// Registration says who may sign up in the console.
	Registration Registration
	// AbuseContact is where the 451 page sends people: the reporting
	// policy's URL, or an email address (--abuse-contact).
	AbuseContact string
	// Shorteners are the other shorteners refused as destinations
	// (--refuse-shorteners); nil means ops.DefaultShorteners.
	Shorteners []string
	// UploadQuota is the most bytes of images one user may hold (0: the
	// default, ops.DefaultUploadQuota).
	UploadQuota int64
	// FeedMinInterval is the shortest fetch interval an admin may give a
	// threat feed (0: ops.DefaultFeedMinInterval).
	FeedMinInterval time.Duration
	// UserDailyLinks is the most links a user may create per UTC day
	// (admins exempt; 0: no limit).
	UserDailyLinks uint32
	// ReviewNewUsers holds the links of accounts younger than it for an
	// admin's review (0: off).
	ReviewNewUsers time.Duration
	// ProfileHost, when set, serves profile pages at /{handle} on that
	// host (e.g. bio.example), besides /@{handle} everywhere.
	ProfileHost string
	// SecureCookies marks console cookies Secure. Set it when clients reach
	// linkd over HTTPS (directly or through a proxy), as PublicURL says.
	SecureCookies bool
	// Front, when set, wraps the handler of both listeners (the HTTPS
	// side's challenge answers, HTTP→HTTPS redirects and HSTS: tlsd).
	Front func(fasthttp.RequestHandler) fasthttp.RequestHandler
	// Webhooks is where webhook endpoints may point.
	Webhooks webhook.Policy
	// Collectors are more metrics for /_/metrics (the outbox's).
	Collectors []prometheus.Collector
	Logger     *slog.Logger
}

// Server is the HTTP server.
type Server struct {
	profileHost string
	maxConns    int
	srv         *fasthttp.Server
	public      *public.Handler
	api         *api.API
	console     *console.Console
	// draining makes every response close its connection (see Drain).
	draining atomic.Bool
}

// Drain marks the node as about to stop: from now on every response says
// Connection: close. A proxy that keeps connections to this node open
// (Varnish, a CDN) then holds none by the time the server stops, so it never
// sends a request on a connection the stop is closing, which it would
// answer with its own 503.
func (s *Server) Drain() { s.draining.Store(true) }

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	o, err := ops.New(ops.Config{Store: cfg.Store, Cluster: cfg.Cluster, Minter: cfg.Minter, PublicURL: cfg.PublicURL,
		Registration: cfg.Registration, UploadQuota: cfg.UploadQuota, Logger: cfg.Logger, AbuseContact: cfg.AbuseContact,
		Shorteners: cfg.Shorteners, Webhooks: cfg.Webhooks, FeedMinInterval: cfg.FeedMinInterval,
		UserDailyLinks: cfg.UserDailyLinks, ReviewNewUsers: cfg.ReviewNewUsers, Clicks: cfg.ClickBatches})
	if err != nil {
		return nil, err
	}
	lim := httpx.NewLimiters(cfg.Limits, cfg.TrustedProxies)
	m := newMetrics(cfg)
	s := &Server{profileHost: cfg.ProfileHost, maxConns: cfg.MaxConnsPerIP}
	s.public = public.New(public.Config{Ops: o, Clicks: cfg.Clicks, Proxies: cfg.TrustedProxies, Limiters: lim,
		RedirectMaxAge: cfg.RedirectMaxAge, Counters: m.redirect, Metrics: m.handler, ProfileHost: cfg.ProfileHost}, cfg.Logger)
	s.api = api.New(o, lim, m.apiRequests)
	secure := strings.HasPrefix(cfg.PublicURL, "https:") || cfg.SecureCookies
	if s.console, err = console.New(console.Config{Ops: o, Limiters: lim, Secure: secure, Logger: cfg.Logger, AnalyticsLag: cfg.AnalyticsLag}); err != nil {
		return nil, err
	}
	handler := fasthttp.RequestHandler(s.Handle)
	if cfg.Front != nil {
		handler = cfg.Front(handler)
	}
	s.srv = &fasthttp.Server{
		Handler:            handler,
		ErrorHandler:       transportError,
		MaxRequestBodySize: maxServerBody,
		// Bodies are read by the route, after its policy allowed the
		// request and within its limit; fasthttp reads only a small
		// prefetch with the headers.
		StreamRequestBody:            true,
		HeaderReceived:               s.headerReceived,
		ReadTimeout:                  readTimeout,
		WriteTimeout:                 writeTimeout,
		IdleTimeout:                  idleTimeout,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       fasthttpLogger{cfg.Logger},
	}
	return s, nil
}

// Serve serves HTTP on ln until Shutdown, with at most MaxConnsPerIP
// connections per client address.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(capConns(ln, s.maxConns)) }

// ServeTLS serves HTTPS on ln with tc until Shutdown: the same handler and
// per-address connection cap as Serve.
func (s *Server) ServeTLS(ln net.Listener, tc *tls.Config) error {
	return s.srv.Serve(tls.NewListener(capConns(ln, s.maxConns), tc))
}

// Shutdown stops accepting connections and waits for open requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.ShutdownWithContext(ctx) }

var (
	prefixAPI      = []byte("/api/")
	prefixInternal = []byte("/_/")
	prefixApp      = []byte("/app")
	prefixProfile  = []byte("/@")
)

// hdrRefused marks a request whose declared body headerReceived refused.
var hdrRefused = []byte("X-Linkd-Body-Refused")

// headerReceived runs when a request's headers are in and before any of
// its body is read. A declared body too large for the route and for
// draining is refused here: the body is not read at all (not even the
// streaming prefetch, which would wait for bytes a hostile client never
// sends), the request is marked, and Handle answers 413 and closes the
// connection. Smaller bodies are checked by the route itself.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if cl := h.ContentLength(); cl > httpx.DrainLimit && cl > s.bodyLimit(h.Method(), h.RequestURI()) {
		h.SetContentLength(0)
		h.SetConnectionClose()
		h.SetBytesV(string(hdrRefused), []byte("1"))
	}
	return fasthttp.RequestConfig{}
}

// bodyLimit is the body limit of the route a request goes to.
func (s *Server) bodyLimit(method, uri []byte) int {
	path, _, _ := bytes.Cut(uri, []byte("?"))
	switch {
	case bytes.HasPrefix(path, prefixAPI):
		return s.api.BodyLimit(string(method), string(path))
	case bytes.HasPrefix(path, prefixApp):
		return s.console.BodyLimit(string(method), string(path))
	}
	return 0
}

// Handle routes a request to its audience. The redirect path is checked
// last but costs only a few prefix comparisons to reach. Public routes
// accept no body: one that declares one is refused before anything else.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	if s.draining.Load() {
		ctx.SetConnectionClose()
	}
	if ctx.Request.Header.ConnectionClose() && len(ctx.Request.Header.PeekBytes(hdrRefused)) > 0 {
		httpx.WriteProblem(ctx, ops.KindTooLarge, "The declared body is larger than this endpoint accepts; it was not read.")
		ctx.SetConnectionClose()
		return
	}
	switch {
	case bytes.HasPrefix(path, prefixAPI):
		s.api.Handle(ctx)
	case bytes.HasPrefix(path, prefixApp) && (len(path) == len(prefixApp) || path[len(prefixApp)] == '/') && !s.onProfileHost(ctx, path):
		s.console.Handle(ctx)
	case ctx.IsPost() && len(path) > 2 && path[1] != '_' && path[1] != '@' && !s.onProfileHost(ctx, path):
		s.public.Unlock(ctx) // a password-protected link's form; its body limit is public.UnlockBodyLimit
	case httpx.TooLarge(ctx, 0):
		httpx.Discard(ctx)
		public.RefuseBody(ctx)
	case bytes.HasPrefix(path, prefixInternal):
		s.public.Internal(ctx)
	case s.onProfileHost(ctx, path):
		s.public.Profile(ctx, string(path[1:]))
	case bytes.HasPrefix(path, prefixProfile):
		s.public.Profile(ctx, string(path[2:]))
	default:
		s.public.Site(ctx) // by Host: the root, a link, or a profile on a profiles domain
	}
}

// onProfileHost reports whether path is a profile at /{handle} on the
// profile host.
func (s *Server) onProfileHost(ctx *fasthttp.RequestCtx, path []byte) bool {
	return s.profileHost != "" && len(path) > 1 && string(ctx.Host()) == s.profileHost &&
		!bytes.HasPrefix(path, prefixAPI) && !bytes.HasPrefix(path, prefixInternal) && !bytes.HasPrefix(path, prefixProfile)
}

// transportError answers requests fasthttp could not read.
func transportError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		httpx.WriteProblem(ctx, ops.KindTooLarge, fmt.Sprintf("The body exceeds %d bytes.", maxServerBody))
		return
	}
	httpx.WriteProblem(ctx, ops.KindBadRequest, "The request could not be parsed.")
}

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug(fmt.Sprintf(format, args...), "component", "fasthttp")
}
