package public

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/profilepage"
	"github.com/linkd/linkd/store"
)

// Profile page tuning, kept together.
const (
	// profileCacheControl: see httpx.ProfileCacheControl.
	profileCacheControl = httpx.ProfileCacheControl
	// maxCachedPages bounds the rendered-page cache.
	maxCachedPages = 20000
)

// renderedPage is a cached page with what its response needs.
type renderedPage struct {
	body, gzip []byte
	etag, csp  string
	gzipETag   string // the gzip body's own strong ETag
}

// renderCache holds rendered pages and images by a key that names their
// version (handle, profile version, and for pages which scheduled links
// show), so an edit is a miss and nothing needs purging. It is dropped
// whole when full: entries re-render in about a millisecond.
//
// Concurrent misses for one key render once (getOrMake): the first renders,
// the others wait for its result. A popular profile just edited, or shared
// into a burst of traffic, would otherwise render once per request in
// flight, and a miss is a thousand times a hit's cost.
type renderCache[V any] struct {
	mu       sync.Mutex
	max      int
	m        map[string]V
	inflight map[string]*renderCall[V]
	renders  atomic.Uint64 // how many times render ran (tests)
	// Test hooks: called by the miss that renders, before rendering, and
	// by a miss that joins a render in flight.
	rendering, joined func()
}

// renderCall is one render in flight; done is closed when v and err are set.
type renderCall[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// getOrMake returns k's value, calling render on a miss unless a render of k
// is already in flight, whose result it then shares. Errors are not cached.
func (c *renderCache[V]) getOrMake(k string, render func() (V, error)) (V, error) {
	c.mu.Lock()
	if v, ok := c.m[k]; ok {
		c.mu.Unlock()
		return v, nil
	}
	if call, ok := c.inflight[k]; ok {
		c.mu.Unlock()
		if c.joined != nil {
			c.joined()
		}
		<-call.done
		return call.v, call.err
	}
	call := &renderCall[V]{done: make(chan struct{})}
	if c.inflight == nil {
		c.inflight = map[string]*renderCall[V]{}
	}
	c.inflight[k] = call
	c.mu.Unlock()
	call.err = errRenderPanicked // stays if render panics: the waiters get an error
	defer func() {
		c.mu.Lock()
		delete(c.inflight, k)
		if call.err == nil {
			c.putLocked(k, call.v)
		}
		c.mu.Unlock()
		close(call.done)
	}()
	c.renders.Add(1)
	if c.rendering != nil {
		c.rendering()
	}
	call.v, call.err = render()
	return call.v, call.err
}

// errRenderPanicked is what waiters get when the render they joined panicked.
var errRenderPanicked = errors.New("public: rendering panicked")

func (c *renderCache[V]) putLocked(k string, v V) {
	if c.m == nil || len(c.m) >= c.max {
		c.m = map[string]V{}
	}
	c.m[k] = v
}

// Profile serves /@{handle}[/og.png|/go/{code}].
func (h *Handler) Profile(ctx *fasthttp.RequestCtx, rest string) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		httpx.WritePage(ctx, fasthttp.StatusMethodNotAllowed, httpx.Page{Title: "Method not allowed", Message: "Profile pages can only be read."})
		return
	}
	handle, sub, _ := strings.Cut(rest, "/")
	p, err := h.st.ProfileByHandle(strings.ToLower(handle))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Error("reading profile", "err", err)
		}
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NoProfile)
		return
	}
	p, dropped := h.ops.WithoutBlocked(p) // taken-down and held links vanish from the page
	switch {
	case sub == "":
		h.profilePage(ctx, p, dropped)
	case sub == "og.png":
		h.shareImage(ctx, p)
	case strings.HasPrefix(sub, "go/"):
		h.sensitiveWarning(ctx, p, strings.TrimPrefix(sub, "go/"))
	default:
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NoProfile)
	}
}

func (h *Handler) profilePage(ctx *fasthttp.RequestCtx, p *store.Profile, dropped string) {
	now := time.Now()
	key := p.Handle + "\x00" + strconv.FormatInt(p.UpdatedAt, 36) + "\x00" + profilepage.Visibility(p, now.UnixMilli()) + "\x00" + dropped
	page, err := h.profiles.getOrMake(key, func() (*renderedPage, error) { return h.renderProfile(p, now.UnixMilli()) })
	if err != nil {
		h.log.Error("rendering profile", "handle", p.Handle, "err", err)
		httpx.WritePage(ctx, fasthttp.StatusInternalServerError, httpx.Page{Title: "Something went wrong", Message: "Please try again in a moment."})
		return
	}
	// The view is counted by the page's beacon (beacon.go), not here: a
	// page a CDN serves from its cache never reaches this code.
	hd := &ctx.Response.Header
	hd.Set("Content-Security-Policy", page.csp)
	hd.Set("Cache-Control", profileCacheControl)
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	// The gzip and identity bodies are different bytes, so they carry
	// different strong ETags (RFC 9110 8.8.3): a cache that stored one may
	// not answer a conditional request for the other with it.
	body, etag := page.body, page.etag
	gz := ctx.Request.Header.HasAcceptEncoding("gzip")
	if gz {
		body, etag = page.gzip, page.gzipETag
	}
	hd.Set("ETag", etag)
	if etagMatches(ctx.Request.Header.Peek("If-None-Match"), etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetContentType("text/html; charset=utf-8")
	if gz {
		hd.Set("Content-Encoding", "gzip")
	}
	ctx.SetBody(body)
}

// etagMatches is If-None-Match's weak comparison: any listed tag (W/ or
// not) equal to etag, or "*".
func etagMatches(inm []byte, etag string) bool {
	for _, t := range strings.Split(string(inm), ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// renderProfile renders the page, its gzip form, ETag and CSP (which
// allows exactly the page's own inline style, by hash).
func (h *Handler) renderProfile(p *store.Profile, now int64) (*renderedPage, error) {
	var b bytes.Buffer
	css, err := profilepage.Render(&b, p, h.public, now, true)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b.Bytes())
	return &renderedPage{body: b.Bytes(), gzip: fasthttp.AppendGzipBytesLevel(nil, b.Bytes(), fasthttp.CompressBestCompression),
		etag: `"` + hex.EncodeToString(sum[:12]) + `"`, gzipETag: `"` + hex.EncodeToString(sum[:12]) + `-gz"`,
		csp: profilepage.CSP(css, "'none'")}, nil
}

// sensitiveWarning serves /@{handle}/go/{code}: a click-through warning
// before a link its owner marked sensitive.
func (h *Handler) sensitiveWarning(ctx *fasthttp.RequestCtx, p *store.Profile, code string) {
	for i := range p.Links {
		l := &p.Links[i]
		if l.Code != code || !l.Sensitive || !l.Visible(time.Now().UnixMilli()) {
			continue
		}
		var b bytes.Buffer
		css, err := profilepage.RenderWarning(&b, p, l, h.public)
		if err != nil {
			h.log.Error("rendering warning", "err", err)
			return
		}
		ctx.Response.Header.Set("Content-Security-Policy", profilepage.CSP(css, "'none'"))
		ctx.Response.Header.Set("Cache-Control", profileCacheControl)
		ctx.SetContentType("text/html; charset=utf-8")
		ctx.SetBody(b.Bytes())
		return
	}
	httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NoProfile)
}
