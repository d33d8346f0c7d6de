package httpd

import (
	"net"
	"net/netip"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/node/clicks"
)

var (
	hdrDNT          = []byte("DNT")
	hdrGPC          = []byte("Sec-GPC")
	hdrCFConnecting = []byte("CF-Connecting-IP")
	hdrXFF          = []byte("X-Forwarded-For")
	hdrCFCountry    = []byte("CF-IPCountry")
)

// record hands a visit to the click log. It copies what it needs out of
// fasthttp's buffers into a fixed-size event and never blocks or
// allocates.
func (s *Server) record(ctx *fasthttp.RequestCtx, code []byte, kind uint8, now time.Time) {
	if s.cfg.Clicks == nil {
		return
	}
	var e clicks.Event
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
	h := &ctx.Request.Header
	if string(h.PeekBytes(hdrDNT)) == "1" || string(h.PeekBytes(hdrGPC)) == "1" {
		e.Flags |= clicks.FlagDNT
	}
	if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		copy(e.IP[:], ta.IP.To16())
		if a, ok := netip.AddrFromSlice(ta.IP); ok && s.cfg.TrustedProxies.Trusted(a.Unmap()) {
			e.Flags |= clicks.FlagTrusted
			if v := h.PeekBytes(hdrCFConnecting); len(v) > 0 {
				e.SetForwarded(v)
			} else {
				e.SetForwarded(h.PeekBytes(hdrXFF))
			}
			copy(e.Country[:], h.PeekBytes(hdrCFCountry))
		}
	}
	s.cfg.Clicks.Record(&e)
}
