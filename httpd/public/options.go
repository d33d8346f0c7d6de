package public

import (
	"bytes"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/destination"
	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

var hdrAcceptLanguage = []byte("Accept-Language")

// Pages of link options, shown instead of a redirect.
var (
	pageNotYet = httpx.Page{Title: "Not yet available",
		Message: "This link is not available yet. Please come back later."}
	pageExhausted = httpx.Page{Title: "Link no longer available",
		Message: "This link has reached its visit limit and no longer leads anywhere."}
)

// withOptions answers a hit on a link with options, or on a plain link
// visited with a query or an extra path (which forwardQuery and
// forwardPath may carry to the destination). A link without options and a
// visit without either never comes here: that is the plain path.
//
// A rule-bearing hit allocates nothing beyond what the response needs
// (BenchmarkRedirectRules): the program is matched straight from the
// hot-set entry's bytes.
func (h *Handler) withOptions(ctx *fasthttp.RequestCtx, code, extra []byte, e *store.Entry, now time.Time) {
	ms := now.UnixMilli()
	switch {
	case e.StartsAt != 0 && ms < e.StartsAt:
		h.m.NotFound.Inc()
		httpx.WritePage(ctx, fasthttp.StatusNotFound, pageNotYet)
		return
	case e.Flags&store.HotExhausted != 0:
		if !h.fallback(ctx, e) {
			h.m.Gone.Inc()
			httpx.WritePage(ctx, fasthttp.StatusGone, pageExhausted)
		}
		return
	case len(extra) > 0 && (e.Flags&store.HotForwardPath == 0 || !validExtraPath(rawExtraPath(ctx))):
		h.m.NotFound.Inc()
		httpx.WriteHTML(ctx, fasthttp.StatusNotFound, h.pages.NotFound)
		return
	case e.Flags&store.HotPassword != 0 && !h.unlocked(ctx, e.PasswordTag, code, now):
		h.passwordPage(ctx, fasthttp.StatusOK, code, "")
		return
	}
	kind := clicks.KindClick
	if ctx.IsHead() {
		kind = clicks.KindPreview
	}
	var ev clicks.Event
	h.event(ctx, &ev, code, kind, now)
	// One pooled buffer holds the visitor's language (its first 16
	// bytes; a local array would escape through Match's interface call)
	// and then the Location.
	bp := h.bufs.Get().(*[]byte)
	buf := (*bp)[:0]
	if cap(buf) < 16 {
		buf = make([]byte, 0, 1024)
	}
	dest := e.URL
	if len(e.Program) > 0 {
		var v destination.Visitor
		h.visitor(ctx, &ev, code, ms, &v, buf[:0:16])
		if u, c, ok := destination.Match(e.Program, &v); ok {
			dest = u
			if c.Variant >= 0 {
				ev.Variant = uint8(c.Variant + 1)
			}
		}
	}
	var q []byte
	if e.Flags&store.HotDropQuery == 0 {
		q = ctx.URI().QueryString()
	}
	if len(extra) > 0 {
		extra = rawExtraPath(ctx)
	}
	loc := destination.AppendURL(buf[16:16], dest, extra, q, e.Flags&store.HotVisitorWins == 0)
	h.m.Redirects.Inc()
	if h.clicks != nil {
		h.clicks.Record(&ev)
	}
	h.redirectTo(ctx, int(e.RedirectStatus), loc)
	if cap(loc) == cap(buf)-16 {
		*bp = buf[:0] // the Location fitted: keep the pooled buffer
	} else {
		*bp = loc[:0] // it grew: keep the larger one
	}
	h.bufs.Put(bp)
}

// visitor classifies the request for matching: device and OS from the
// User-Agent, the preferred language into lang (16 bytes of room, so no
// allocation; it must not alias what Match returns), country and the per-link daily visitor hash as the click
// pipeline computes them.
func (h *Handler) visitor(ctx *fasthttp.RequestCtx, ev *clicks.Event, code []byte, ms int64, v *destination.Visitor, lang []byte) {
	v.Device, v.OS = destination.Classify(ctx.UserAgent())
	v.Lang = destination.PreferredLanguage(lang, ctx.Request.Header.PeekBytes(hdrAcceptLanguage))
	v.Hash, v.Country = h.clicks.VisitorHash(ev, h.proxies, code)
	v.Now = ms
	if len(ctx.URI().QueryString()) > 0 {
		v.Query = ctx.QueryArgs()
	}
}

// fallback redirects to the link's fallback URL, if it has one.
func (h *Handler) fallback(ctx *fasthttp.RequestCtx, e *store.Entry) bool {
	if len(e.Fallback) == 0 {
		return false
	}
	h.m.Redirects.Inc()
	h.redirectTo(ctx, fasthttp.StatusFound, e.Fallback)
	return true
}

func (h *Handler) redirectTo(ctx *fasthttp.RequestCtx, status int, loc []byte) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetCanonical(hdrLocation, loc)
	ctx.Response.Header.SetCanonical(hdrCacheControl, h.cacheCtl)
	ctx.Response.Header.SetCanonical(hdrRobots, valNoIndex)
}

// rawExtraPath is the extra path of /{code}/more/path as the client sent it
// (still percent-encoded, so it is copied into the destination unchanged,
// never decoded into a '?' or a control character).
func rawExtraPath(ctx *fasthttp.RequestCtx) []byte {
	p := ctx.URI().PathOriginal()
	if len(p) < 2 {
		return nil
	}
	if i := bytes.IndexByte(p[1:], '/'); i >= 0 {
		return p[1+i:]
	}
	return nil
}

// validExtraPath accepts a path of RFC 3986 path characters (pchar and
// '/', percent-encoded bytes as they came) without dot segments, so that
// what is appended stays inside the destination's path.
func validExtraPath(p []byte) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	for _, c := range p {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-._~!$&'()*+,;=:@%/", c) >= 0
		if !ok {
			return false
		}
	}
	for rest := p[1:]; ; {
		seg, after, more := bytes.Cut(rest, []byte{'/'})
		if dotSegment(seg) {
			return false
		}
		if !more {
			return true
		}
		rest = after
	}
}

// dotSegment reports whether seg is "." or "..", literally or with the
// dots percent-encoded (which the destination would decode).
func dotSegment(seg []byte) bool {
	dots := 0
	for len(seg) > 0 {
		switch {
		case seg[0] == '.':
			seg = seg[1:]
		case len(seg) >= 3 && seg[0] == '%' && seg[1] == '2' && (seg[2] == 'e' || seg[2] == 'E'):
			seg = seg[3:]
		default:
			return false
		}
		dots++
	}
	return dots == 1 || dots == 2
}
