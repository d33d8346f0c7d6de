package public

import (
	"net"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/httpx"
	"github.com/linkd/linkd/node/clicks"
)

var (
	hdrDNT       = []byte("DNT")
	hdrGPC       = []byte("Sec-GPC")
	hdrCFCountry = []byte("CF-IPCountry")
)

// record hands a visit to the click log. It copies what it needs out of
// fasthttp's buffers into a fixed-size event and never blocks or
// allocates.
func (h *Handler) record(ctx *fasthttp.RequestCtx, code []byte, kind uint8, now time.Time) {
	if h.clicks == nil {
		return
	}
	var e clicks.Event
	h.event(ctx, &e, code, kind, now)
	h.clicks.Record(&e)
}

// event fills e with what the click log needs of a visit.
func (h *Handler) event(ctx *fasthttp.RequestCtx, e *clicks.Event, code []byte, kind uint8, now time.Time) {
	e.TimeMs = now.UnixMilli()
	e.Kind = kind
	if kind == clicks.KindClick && len(ctx.URI().QueryString()) > 0 && ctx.QueryArgs().Has("qr") {
		e.Kind = clicks.KindScan
	}
	e.SetCode(code)
	if kind == clicks.KindOrphan {
		e.SetHost(ctx.Host())
	}
	e.SetUserAgent(ctx.UserAgent())
	e.SetReferer(ctx.Referer())
	hd := &ctx.Request.Header
	if string(hd.PeekBytes(hdrDNT)) == "1" || string(hd.PeekBytes(hdrGPC)) == "1" {
		e.Flags |= clicks.FlagDNT
	}
	if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		copy(e.IP[:], ta.IP.To16())
		if a, ok := netip.AddrFromSlice(ta.IP); ok && h.proxies.Trusted(a.Unmap()) {
			e.Flags |= clicks.FlagTrusted
			e.SetForwarded(httpx.Forwarded(ctx, h.proxies))
			copy(e.Country[:], hd.PeekBytes(hdrCFCountry))
		}
	}
}
