package public

import (
	"bytes"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/httpd/ops"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

var (
	hdrLocation     = []byte("Location")
	hdrCacheControl = []byte("Cache-Control")
	hdrRobots       = []byte("X-Robots-Tag")
	valNoIndex      = []byte("noindex")
	valNoStore      = []byte("no-store")
)

// redirect serves GET/HEAD /{code} and /{code}+ (preview) on a site (host
// and d from siteOf: d is nil on the default domain). On a hot-set hit it
// touches no disk and allocates nothing.
func (h *Handler) redirect(ctx *fasthttp.RequestCtx, host []byte, d *store.Domain) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		httpx.WritePage(ctx, fasthttp.StatusMethodNotAllowed, httpx.Page{Title: "Method not allowed", Message: "Links can only be followed with GET or HEAD."})
		return
	}
	now := time.Now() // once: reading the clock is a visible share of a hit
	if ok, wait := h.lim.RedirectRefusal(ctx, now); !ok {
		h.m.Limited.Inc()
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(httpx.CeilSeconds(wait), 1)))
		httpx.WritePage(ctx, fasthttp.StatusTooManyRequests, httpx.Page{Title: "Too many requests", Message: "This address sent too many requests. Please wait a moment and try again."})
		return
	}
	code := ctx.Path()[1:]
	var extra []byte // "/more/path" of /{code}/more/path, for forwardPath
	if i := bytes.IndexByte(code, '/'); i >= 0 {
		code, extra = code[:i], code[i:]
	}
	preview := len(extra) == 0 && len(code) > 0 && code[len(code)-1] == '+'
	if preview {
		code = code[:len(code)-1]
	}
	if !ops.ValidCode(code) {
		h.notFound(ctx, d, code)
		return
	}
	bare := code
	if d != nil { // the store key: "<host>/<code>" off the default domain
		kb := keyBufs.Get().(*keyBuf)
		defer keyBufs.Put(kb)
		code = linkKey(kb, host, d, code)
	}
	bp := h.bufs.Get().(*[]byte)
	defer h.bufs.Put(bp)
	e, buf, err := h.st.Resolve(*bp, code)
	*bp = buf[:0]
	if err != nil {
		h.log.Error("resolving code", "code", string(code), "err", err)
		httpx.WritePage(ctx, fasthttp.StatusInternalServerError, httpx.Page{Title: "Something went wrong", Message: "Please try again in a moment."})
		return
	}
	switch {
	case e.Kind == store.HotMissing:
		if d == nil || d.Kind != store.DomainBoth {
			h.record(ctx, code, clicks.KindOrphan, now)
		}
		h.notFound(ctx, d, bare)
	case e.Kind == store.HotGone:
		h.m.Gone.Inc()
		httpx.WriteHTML(ctx, fasthttp.StatusGone, h.pages.Gone)
	case e.Kind == store.HotBlocked:
		h.m.Blocked.Inc()
		h.blocked(ctx, string(code))
	case e.Kind == store.HotHeld:
		h.m.Blocked.Inc()
		ctx.Response.Header.Set("Cache-Control", "no-store")
		httpx.WritePage(ctx, fasthttp.StatusForbidden, httpx.Page{Title: "Pending review",
			Message: "This short link is new and waits for the administrators of this service to review it. Please try again later."})
	case e.Expired(now.UnixMilli()):
		if !h.fallback(ctx, &e) {
			h.m.Gone.Inc()
			httpx.WriteHTML(ctx, fasthttp.StatusGone, h.pages.Expired)
		}
	case preview:
		h.m.Preview.Inc()
		h.previewPage(ctx, string(code), &e)
	case e.Flags != 0 || len(extra) > 0 || len(ctx.URI().QueryString()) > 0:
		h.withOptions(ctx, code, extra, &e, now)
	default:
		h.m.Redirects.Inc()
		kind := clicks.KindClick
		if ctx.IsHead() {
			kind = clicks.KindPreview
		}
		h.record(ctx, code, kind, now)
		ctx.SetStatusCode(int(e.RedirectStatus))
		ctx.Response.Header.SetCanonical(hdrLocation, e.URL)
		ctx.Response.Header.SetCanonical(hdrCacheControl, h.cacheCtl)
		ctx.Response.Header.SetCanonical(hdrRobots, valNoIndex)
	}
}
