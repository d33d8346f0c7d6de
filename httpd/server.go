// Package httpd is linkd's one public HTTP port, served by fasthttp: the
// redirect hot path, preview pages, public profile pages under /@, the JSON
// API, the web console under /app, images, and health, readiness and status
// endpoints.
//
// httpd validates input, decides everything non-deterministic (time, codes,
// tokens, password hashes) and proposes commands through the cluster; it
// reads state from the store. It never writes to the store and never talks
// to raft directly.
//
// Who may do what: an API key carries scopes (auth.go), clipped to its
// user's role when used; a console session holds all of its role's scopes.
// Other users' links answer 404, never 403, on every route. The API and the
// console share one implementation of each operation; failures are
// *failure values that the API writes as problem+json and the console shows
// on its forms. Rate limits (limits.go) are in-memory token buckets per
// node, so the redirect and login paths never touch raft.
package httpd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/cluster"
	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/internal/clientaddr"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// Limits and timeouts, kept together.
const (
	// maxAPIBody is the largest JSON body the API accepts.
	maxAPIBody = 64 << 10
	// maxServerBody is the transport limit, sized for image uploads; JSON
	// bodies between maxAPIBody and this get a problem+json 413 from the
	// handler, larger ones from transportError.
	maxServerBody = imaging.MaxUpload + 64<<10
	readTimeout   = 15 * time.Second
	writeTimeout  = 15 * time.Second
	idleTimeout   = 90 * time.Second
	// applyTimeout bounds how long an API write waits for its commit.
	applyTimeout = 10 * time.Second
)

// Cluster is what httpd needs from the cluster: commit commands, and know
// the cluster's state.
type Cluster interface {
	Propose(ctx context.Context, c fsm.Command) (*fsm.Result, error)
	// ReadIndex waits until local reads are linearizable.
	ReadIndex(ctx context.Context) error
	Status() cluster.Status
	FullStatus(ctx context.Context) cluster.Status
	Remove(ctx context.Context, id string) error
	Ready() error
}

// Minter mints fresh codes.
type Minter interface {
	Code(ctx context.Context) (string, error)
}

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
	// TrustedProxies may tell the client's address in CF-Connecting-IP or
	// X-Forwarded-For (for rate limits; analytics is given the same list).
	TrustedProxies clientaddr.Proxies
	// Limits are the rate limits; the zero value limits nothing.
	Limits Limits
	// Registration says who may sign up in the console.
	Registration Registration
	// ProfileHost, when set, serves profile pages at /{handle} on that
	// host (e.g. bio.example), besides /@{handle} everywhere.
	ProfileHost string
	// SecureCookies marks console cookies Secure. Set it when clients reach
	// linkd over HTTPS (directly or through a proxy), as PublicURL says.
	SecureCookies bool
	Logger        *slog.Logger
}

// Server is the HTTP server.
type Server struct {
	cfg         Config
	st          *store.Store
	log         *slog.Logger
	srv         *fasthttp.Server
	public      string   // PublicURL without a trailing slash
	selfHosts   []string // hosts that would make a destination a redirect loop
	pages       statusPages
	cacheCtl    []byte
	bufs        sync.Pool
	m           *metrics
	lim         limiters
	ui          *console
	profiles    renderCache[*renderedPage]
	shares      renderCache[[]byte]
	shareRender sync.Mutex
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pu, err := url.Parse(cfg.PublicURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("httpd: public URL %q must be an absolute http(s) URL", cfg.PublicURL)
	}
	s := &Server{
		cfg: cfg, st: cfg.Store, log: cfg.Logger,
		public:    strings.TrimRight(cfg.PublicURL, "/"),
		selfHosts: []string{pu.Host},
		pages:     newStatusPages(),
		cacheCtl:  []byte("no-store"),
	}
	if cfg.RedirectMaxAge > 0 {
		sec := strconv.Itoa(int(cfg.RedirectMaxAge.Seconds()))
		s.cacheCtl = []byte("public, max-age=" + sec + ", s-maxage=" + sec)
	}
	if cfg.Registration == "" {
		cfg.Registration = RegistrationInvite
		s.cfg.Registration = cfg.Registration
	}
	s.lim = newLimiters(cfg.Limits)
	s.profiles.max, s.shares.max = maxCachedPages, maxShareCached
	if s.ui, err = newConsole(s, pu.Scheme == "https" || cfg.SecureCookies); err != nil {
		return nil, err
	}
	s.m = newMetrics(s)
	s.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	s.srv = &fasthttp.Server{
		Handler:                      s.Handle,
		ErrorHandler:                 s.transportError,
		MaxRequestBodySize:           maxServerBody,
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

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Shutdown stops accepting connections and waits for open requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.ShutdownWithContext(ctx) }

var (
	prefixAPI      = []byte("/api/")
	prefixInternal = []byte("/_/")
	prefixApp      = []byte("/app")
	prefixProfile  = []byte("/@")
)

// Handle routes a request. The redirect path is checked last but costs only
// two prefix comparisons to reach.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	switch {
	case s.cfg.ProfileHost != "" && len(path) > 1 && string(ctx.Host()) == s.cfg.ProfileHost &&
		!bytes.HasPrefix(path, prefixAPI) && !bytes.HasPrefix(path, prefixInternal) && !bytes.HasPrefix(path, prefixProfile):
		s.profileRequest(ctx, string(path[1:]))
	case bytes.HasPrefix(path, prefixAPI):
		s.api(ctx)
	case bytes.HasPrefix(path, prefixInternal):
		s.internal(ctx)
	case bytes.HasPrefix(path, prefixApp) && (len(path) == len(prefixApp) || path[len(prefixApp)] == '/'):
		s.ui.handler(ctx)
	case bytes.HasPrefix(path, prefixProfile):
		s.profileRequest(ctx, string(path[2:]))
	case len(path) <= 1:
		s.home(ctx)
	default:
		s.redirect(ctx)
	}
}

// transportError answers requests fasthttp could not read.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeProblem(ctx, probTooLarge, fmt.Sprintf("The body exceeds %d bytes.", maxServerBody))
		return
	}
	writeProblem(ctx, probRequestHeader, "The request could not be parsed.")
}

func (s *Server) home(ctx *fasthttp.RequestCtx) {
	writePage(ctx, fasthttp.StatusOK, pageData{Title: "linkd", Message: "Short links and link-in-bio pages. Use the API at /api/v1 with your API token."})
}

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug(fmt.Sprintf(format, args...), "component", "fasthttp")
}
