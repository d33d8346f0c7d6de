package httpd

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/node/clicks"
	"github.com/linkd/linkd/store"
)

// maxCodeLen is the longest code or alias the redirect path will look up;
// anything longer cannot exist and is answered without a lookup.
const maxCodeLen = 64

var (
	hdrLocation     = []byte("Location")
	hdrCacheControl = []byte("Cache-Control")
	hdrRobots       = []byte("X-Robots-Tag")
	valNoIndex      = []byte("noindex")
)

// validCode reports whether b could be a code or alias: [A-Za-z0-9_-]{1,64}.
func validCode(b []byte) bool {
	if len(b) == 0 || len(b) > maxCodeLen {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// redirect serves GET/HEAD /{code} and /{code}+ (preview). On a hot-set hit
// it touches no disk and allocates nothing.
func (s *Server) redirect(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		writePage(ctx, fasthttp.StatusMethodNotAllowed, pageData{Title: "Method not allowed", Message: "Links can only be followed with GET or HEAD."})
		return
	}
	now := time.Now() // once: reading the clock is a visible share of a hit
	if s.lim.redirectIP.Enabled() {
		if ok, wait := s.lim.redirectIP.Take(s.clientIP(ctx), now); !ok {
			s.m.limited.Inc()
			ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(ceilSeconds(wait), 1)))
			writePage(ctx, fasthttp.StatusTooManyRequests, pageData{Title: "Too many requests", Message: "This address sent too many requests. Please wait a moment and try again."})
			return
		}
	}
	code := ctx.Path()[1:]
	preview := len(code) > 0 && code[len(code)-1] == '+'
	if preview {
		code = code[:len(code)-1]
	}
	if !validCode(code) {
		s.m.notFound.Inc()
		writeHTML(ctx, fasthttp.StatusNotFound, s.pages.notFound)
		return
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	e, buf, err := s.st.Resolve(*bp, code)
	*bp = buf[:0]
	if err != nil {
		s.log.Error("resolving code", "code", string(code), "err", err)
		writePage(ctx, fasthttp.StatusInternalServerError, pageData{Title: "Something went wrong", Message: "Please try again in a moment."})
		return
	}
	switch {
	case e.Kind == store.HotMissing:
		s.m.notFound.Inc()
		s.record(ctx, code, clicks.KindOrphan, now)
		writeHTML(ctx, fasthttp.StatusNotFound, s.pages.notFound)
	case e.Kind == store.HotGone:
		s.m.gone.Inc()
		writeHTML(ctx, fasthttp.StatusGone, s.pages.gone)
	case e.Kind == store.HotBlocked:
		s.m.blocked.Inc()
		writeHTML(ctx, fasthttp.StatusUnavailableForLegalReasons, s.pages.blocked)
	case e.Expired(now.UnixMilli()):
		s.m.gone.Inc()
		writeHTML(ctx, fasthttp.StatusGone, s.pages.expired)
	case preview:
		s.m.prev.Inc()
		s.previewPage(ctx, string(code), string(e.URL))
	default:
		s.m.redirects.Inc()
		kind := clicks.KindClick
		if ctx.IsHead() {
			kind = clicks.KindPreview
		}
		s.record(ctx, code, kind, now)
		ctx.SetStatusCode(int(e.RedirectStatus))
		ctx.Response.Header.SetCanonical(hdrLocation, e.URL)
		ctx.Response.Header.SetCanonical(hdrCacheControl, s.cacheCtl)
		ctx.Response.Header.SetCanonical(hdrRobots, valNoIndex)
	}
}

func (s *Server) previewPage(ctx *fasthttp.RequestCtx, code, dest string) {
	var title string
	if l, err := s.st.Link(code); err == nil {
		title = l.Title
	}
	writePage(ctx, fasthttp.StatusOK, pageData{
		Title:     "Where this link goes",
		Message:   s.public + "/" + code + " leads to:",
		URL:       dest,
		LinkTitle: title,
		Detail:    "linkd shows this preview because the link ends in “+”. Nothing was counted.",
	})
}
